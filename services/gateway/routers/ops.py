"""Liveness and readiness (metrics and docs are mounted by the app)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from services.gateway.deps import RuntimeDep

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the gateway process answers."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "A backend is not serving."}})
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    """Readiness: every backend service answers its health check with SERVING."""
    statuses = await runtime.backends.health()
    ready = all(status == "SERVING" for status in statuses.values())
    return JSONResponse(
        {"status": "ready" if ready else "not_ready", "backends": statuses},
        status_code=200 if ready else 503,
    )
