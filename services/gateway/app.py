"""The FastAPI application: composition root of the gateway.

Middleware, outermost first: request id / tracing / metrics (shared observability),
then the upload limit, which answers 413 from the declared Content-Length before any
body byte is read. Routers hold thin handlers: validate → one gRPC call with a
deadline → JSON (presenters.py); every error becomes one JSON shape (errors.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from editai_common.observability import install_http_observability
from services.gateway.config import Settings
from services.gateway.errors import install_error_handlers
from services.gateway.routers import clips, jobs, ops, progress, projects, segments, tts
from services.gateway.runtime import Runtime
from services.gateway.upload_limit import UploadLimitMiddleware

API_PREFIX = "/api/v1"


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime.open(settings)
        app.state.runtime = runtime
        app.state.backends = runtime.backends
        try:
            yield
        finally:
            await runtime.close()

    app = FastAPI(
        title="EditAI API",
        version="1.0.0",
        description="REST API of the EditAI backend (DESIGN.md §2). Errors: `{detail, error: {code, status, reason, "
        "details}}`.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.include_router(ops.router)
    for router in (projects.router, progress.router, clips.router, segments.router, jobs.router, tts.router):
        app.include_router(router, prefix=API_PREFIX)
    app.add_middleware(UploadLimitMiddleware, limit_bytes=settings.max_upload_bytes)
    install_http_observability(app)
    return app
