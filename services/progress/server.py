"""Composition root of the progress service: builds its adapters and serves gRPC."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from editai.progress.v1 import progress_pb2, progress_pb2_grpc

from editai_common.grpc_server import ServerContext, run_grpc_service
from services.progress.config import Settings

SERVICE_NAME = progress_pb2.DESCRIPTOR.services_by_name["ProgressService"].full_name
DOMAIN = "progress.editai"


async def serve(settings: Settings) -> None:
    @asynccontextmanager
    async def setup(ctx: ServerContext) -> AsyncIterator[None]:
        # Every RPC answers UNIMPLEMENTED until the service's own issue lands.
        servicer = progress_pb2_grpc.ProgressServiceServicer()
        ctx.add(SERVICE_NAME, progress_pb2_grpc.add_ProgressServiceServicer_to_server, servicer)
        yield

    await run_grpc_service("progress", port=settings.port, domain=DOMAIN, setup=setup)
