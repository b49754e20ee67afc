"""FastAPI dependencies shared by the routers: the runtime, the caller, the job rate limit."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.gateway.auth import Caller
from services.gateway.runtime import Runtime

# Declares the bearer scheme in OpenAPI; the Authenticator does the checking (dev mode needs no token).
_bearer = HTTPBearer(auto_error=False, description="JWT bearer token (optional when EDITAI_AUTH=dev).")


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_caller(
    request: Request,
    runtime: RuntimeDep,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    x_profile_id: Annotated[str | None, Header(description="Act as this profile (if the token allows).")] = None,
) -> Caller:
    return await runtime.authenticator.caller(request.headers.get("authorization"), x_profile_id)


CallerDep = Annotated[Caller, Depends(get_caller)]


async def limit_job_starts(runtime: RuntimeDep, caller: CallerDep) -> None:
    """Counts a job-starting request against the caller's per-minute limit (before the body is read)."""
    await runtime.rate_limiter.check(caller.profile_id)


JobRateLimit = Depends(limit_job_starts)

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=128, description="Repeat-safe key: a repeat returns the first job."),
]
