"""The FastAPI application: composition root of the gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from services.gateway.backends import Backends
from services.gateway.config import Settings


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.backends = Backends.open(settings)
        try:
            yield
        finally:
            await app.state.backends.close()

    app = FastAPI(title="EditAI API", version="1.0.0", lifespan=lifespan)

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        """Liveness: the gateway process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"])
    async def readyz() -> JSONResponse:
        """Readiness: every backend service answers its health check with SERVING."""
        statuses = await app.state.backends.health()
        ready = all(status == "SERVING" for status in statuses.values())
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "backends": statuses},
            status_code=200 if ready else 503,
        )

    return app
