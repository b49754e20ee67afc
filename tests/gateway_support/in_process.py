"""The gateway app inside the test process (its real lifespan and channels), over ASGI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI

from services.gateway.app import create_app
from services.gateway.config import Settings
from tests.gateway_support.stack import JWT_SECRET


def gateway_env(data_dir: Path, redis_url: str, redis_prefix: str, **extra: str) -> dict[str, str]:
    return {
        "EDITAI_DATABASE_URL": "postgresql://unused",  # the gateway never opens the database
        "EDITAI_REDIS_URL": redis_url,
        "EDITAI_REDIS_PREFIX": redis_prefix,
        "EDITAI_DATA_DIR": str(data_dir),
        "EDITAI_AUTH": "dev",
        "EDITAI_JWT_SECRET": JWT_SECRET,
        # Nothing listens here: an unscripted backend is "down".
        "EDITAI_RENDER_ADDR": "127.0.0.1:9",
        "EDITAI_TTS_ADDR": "127.0.0.1:9",
        "EDITAI_PROGRESS_ADDR": "127.0.0.1:9",
        **extra,
    }


@asynccontextmanager
async def in_process_gateway(env: dict[str, str]) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(Settings.from_env(env))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield app, client
