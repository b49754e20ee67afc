"""What a request handler needs, built once in the lifespan: stubs, store, auth, limiter.

Handlers get it through FastAPI dependencies (`deps.py`), never from globals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from editai.progress.v1 import progress_pb2_grpc
from editai.render.v1 import render_pb2_grpc
from editai.tts.v1 import tts_pb2_grpc
from editai_common.media_store import LocalMediaStore
from editai_common.redis_client import KeySpace, connect_redis
from services.gateway.auth import Authenticator, Caller
from services.gateway.backends import Backends
from services.gateway.config import Settings
from services.gateway.rate_limit import RateLimiter


@dataclass
class Runtime:
    settings: Settings
    backends: Backends
    redis: aioredis.Redis
    store: LocalMediaStore
    authenticator: Authenticator
    rate_limiter: RateLimiter
    render: render_pb2_grpc.RenderServiceStub
    tts: tts_pb2_grpc.TtsServiceStub
    progress: progress_pb2_grpc.ProgressServiceStub

    @classmethod
    def open(cls, settings: Settings) -> Runtime:
        backends = Backends.open(settings)
        redis = connect_redis(settings.common.redis_url)
        return cls(
            settings=settings,
            backends=backends,
            redis=redis,
            store=LocalMediaStore(settings.common.media_dir),
            authenticator=Authenticator(settings),
            rate_limiter=RateLimiter(
                redis, KeySpace(settings.common.redis_prefix, "gateway"), settings.rate_limit_per_minute
            ),
            render=render_pb2_grpc.RenderServiceStub(backends.channels["render"]),
            tts=tts_pb2_grpc.TtsServiceStub(backends.channels["tts"]),
            progress=progress_pb2_grpc.ProgressServiceStub(backends.channels["progress"]),
        )

    async def close(self) -> None:
        await self.backends.close()
        await self.redis.aclose()

    def call(self, caller: Caller, *, timeout: float | None = None) -> dict[str, Any]:
        """Keyword arguments of one unary call: the deadline and the caller's profile."""
        return {"timeout": timeout or self.settings.rpc_timeout_seconds, "metadata": caller.metadata()}
