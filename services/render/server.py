"""Composition root of the render service: builds its adapters and serves gRPC."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from editai.render.v1 import render_pb2, render_pb2_grpc

from editai_common.grpc_server import ServerContext, run_grpc_service
from services.render.config import Settings

SERVICE_NAME = render_pb2.DESCRIPTOR.services_by_name["RenderService"].full_name
DOMAIN = "render.editai"


async def serve(settings: Settings) -> None:
    @asynccontextmanager
    async def setup(ctx: ServerContext) -> AsyncIterator[None]:
        # Every RPC answers UNIMPLEMENTED until the service's own issue lands.
        servicer = render_pb2_grpc.RenderServiceServicer()
        ctx.add(SERVICE_NAME, render_pb2_grpc.add_RenderServiceServicer_to_server, servicer)
        yield

    await run_grpc_service("render", port=settings.port, domain=DOMAIN, setup=setup)
