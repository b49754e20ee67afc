"""Composition root of the tts service: builds its adapters and serves gRPC."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from editai.tts.v1 import tts_pb2, tts_pb2_grpc

from editai_common.grpc_server import ServerContext, run_grpc_service
from services.tts.config import Settings

SERVICE_NAME = tts_pb2.DESCRIPTOR.services_by_name["TtsService"].full_name
DOMAIN = "tts.editai"


async def serve(settings: Settings) -> None:
    @asynccontextmanager
    async def setup(ctx: ServerContext) -> AsyncIterator[None]:
        # Every RPC answers UNIMPLEMENTED until the service's own issue lands.
        servicer = tts_pb2_grpc.TtsServiceServicer()
        ctx.add(SERVICE_NAME, tts_pb2_grpc.add_TtsServiceServicer_to_server, servicer)
        yield

    await run_grpc_service("tts", port=settings.port, domain=DOMAIN, setup=setup)
