"""Who is calling: the profile id carried in gRPC metadata.

The gateway authenticates users and forwards their profile as `x-profile-id`;
the services trust it (they are reachable only inside the cluster).
"""

from __future__ import annotations

import re

import grpc

from editai_common.errors import InvalidArgument, Unauthenticated

PROFILE_METADATA_KEY = "x-profile-id"
REQUEST_ID_METADATA_KEY = "x-request-id"
DEV_PROFILE_ID = "local"
_PROFILE_PATTERN = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")


def profile_from_metadata(metadata: object) -> str | None:
    for key, value in metadata or ():  # type: ignore[attr-defined]
        if key == PROFILE_METADATA_KEY:
            return value if isinstance(value, str) else value.decode()
    return None


def caller_profile(context: grpc.aio.ServicerContext, *, dev_auth: bool) -> str:
    """The calling profile; in dev mode a call without one acts as the local profile."""
    profile = profile_from_metadata(context.invocation_metadata())
    if not profile:
        if dev_auth:
            return DEV_PROFILE_ID
        raise Unauthenticated(
            f"Missing {PROFILE_METADATA_KEY} metadata: calls must name the caller's profile.",
            reason="PROFILE_REQUIRED",
        )
    if not _PROFILE_PATTERN.match(profile):
        raise InvalidArgument(f"{PROFILE_METADATA_KEY} must be 1-128 letters, digits or ._:@-", reason="BAD_PROFILE_ID")
    return profile
