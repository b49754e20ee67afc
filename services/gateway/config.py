"""Settings of the gateway, read once from EDITAI_* at start."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from editai_common.settings import (
    CommonSettings,
    ConfigError,
    env_float,
    env_int,
    env_str,
    service_address,
    service_port,
)

MIB = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    common: CommonSettings
    port: int
    render_address: str
    tts_address: str
    progress_address: str
    # Largest accepted request body (uploads); a declared or counted body above it is a 413.
    max_upload_bytes: int
    # Deadline of every unary gRPC call the gateway makes.
    rpc_timeout_seconds: float
    # JWT verification: an HMAC secret, or a JWKS URL for asymmetric keys (one of them unless dev auth).
    jwt_secret: str
    jwks_url: str
    jwt_audience: str
    # Job-starting requests a client may make per minute (0 disables the limit).
    rate_limit_per_minute: int
    # Seconds between SSE heartbeats (ping comments) on the progress stream.
    sse_ping_seconds: float

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        common = CommonSettings.from_env(env)
        jwt_secret = env_str("EDITAI_JWT_SECRET", "", env)
        jwks_url = env_str("EDITAI_JWKS_URL", "", env)
        if not common.dev_auth and not (jwt_secret or jwks_url):
            raise ConfigError(
                "EDITAI_JWT_SECRET or EDITAI_JWKS_URL is not set; one is required unless EDITAI_AUTH=dev."
            )
        return cls(
            common=common,
            port=service_port("gateway", env),
            render_address=service_address("render", env),
            tts_address=service_address("tts", env),
            progress_address=service_address("progress", env),
            max_upload_bytes=env_int("EDITAI_MAX_UPLOAD_MB", 500, env, minimum=1) * MIB,
            rpc_timeout_seconds=env_float("EDITAI_GATEWAY_RPC_TIMEOUT_SECONDS", 30.0, env, minimum=0.1),
            jwt_secret=jwt_secret,
            jwks_url=jwks_url,
            jwt_audience=env_str("EDITAI_JWT_AUDIENCE", "", env),
            rate_limit_per_minute=env_int("EDITAI_RATE_LIMIT_PER_MINUTE", 60, env),
            sse_ping_seconds=env_float("EDITAI_SSE_PING_SECONDS", 15.0, env, minimum=0.1),
        )
