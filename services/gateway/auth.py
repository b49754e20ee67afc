"""Who is calling: a JWT bearer token (HS256 secret or a JWKS URL), or dev mode.

The profile is the token's `profile_id` claim, else its `sub`. A caller may act as
another profile with `X-Profile-Id` only when the token lists it in its `profiles`
claim. In dev mode (`EDITAI_AUTH=dev`) a request without a token acts as the
profile named by `X-Profile-Id`, or "local". The profile is forwarded to every
service as `x-profile-id`; services scope by it (another profile's ids → 404).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

import jwt

from editai_common.identity import DEV_PROFILE_ID, PROFILE_METADATA_KEY
from services.gateway.config import Settings
from services.gateway.errors import ApiError

_PROFILE_PATTERN = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")
_HMAC_ALGORITHMS = ["HS256", "HS384", "HS512"]
_JWKS_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256", "EdDSA"]


@dataclass(frozen=True)
class Caller:
    profile_id: str

    def metadata(self) -> tuple[tuple[str, str], ...]:
        return ((PROFILE_METADATA_KEY, self.profile_id),)


def _unauthenticated(detail: str, reason: str = "INVALID_TOKEN") -> ApiError:
    return ApiError(401, detail, reason=reason, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


def _checked_profile(value: object, source: str) -> str:
    if not isinstance(value, str) or not _PROFILE_PATTERN.match(value):
        raise ApiError(400, f"{source} must be 1-128 letters, digits or ._:@-.", reason="BAD_PROFILE_ID")
    return value


class Authenticator:
    def __init__(self, settings: Settings) -> None:
        self.dev_auth = settings.common.dev_auth
        self.secret = settings.jwt_secret
        self.audience = settings.jwt_audience or None
        self._jwks = jwt.PyJWKClient(settings.jwks_url, cache_keys=True) if settings.jwks_url else None

    async def caller(self, authorization: str | None, profile_header: str | None) -> Caller:
        token = None
        if authorization:
            scheme, _, value = authorization.partition(" ")
            if scheme.lower() != "bearer" or not value.strip():
                raise _unauthenticated("The Authorization header must be `Bearer <token>`.")
            token = value.strip()
        if token is None:
            if self.dev_auth:
                return Caller(_checked_profile(profile_header, "X-Profile-Id") if profile_header else DEV_PROFILE_ID)
            raise _unauthenticated("A bearer token is required.", reason="TOKEN_REQUIRED")
        claims = await self._verify(token)
        own = claims.get("profile_id") or claims.get("sub")
        profile = _checked_profile(own, "The token's profile (profile_id or sub)")
        if profile_header and profile_header != profile:
            allowed = claims.get("profiles")
            if not isinstance(allowed, list) or profile_header not in allowed:
                raise ApiError(403, "The token does not allow acting as that profile.", reason="PROFILE_NOT_ALLOWED")
            profile = _checked_profile(profile_header, "X-Profile-Id")
        return Caller(profile)

    async def _verify(self, token: str) -> dict[str, Any]:
        options: Any = {"require": ["exp"], "verify_aud": self.audience is not None}
        try:
            if self._jwks is not None:
                # PyJWKClient fetches over urllib (blocking); keys are cached, so this is rare.
                key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
                return jwt.decode(token, key.key, algorithms=_JWKS_ALGORITHMS, audience=self.audience, options=options)
            if self.secret:
                return jwt.decode(
                    token, self.secret, algorithms=_HMAC_ALGORITHMS, audience=self.audience, options=options
                )
        except jwt.ExpiredSignatureError:
            raise _unauthenticated("The bearer token has expired.", reason="TOKEN_EXPIRED") from None
        except jwt.PyJWKClientError:
            raise ApiError(503, "The signing keys could not be fetched.", reason="JWKS_UNAVAILABLE") from None
        except jwt.InvalidTokenError as exc:
            raise _unauthenticated(f"The bearer token is invalid: {exc}.") from None
        raise _unauthenticated("Bearer tokens are not accepted: no verification key is configured.")
