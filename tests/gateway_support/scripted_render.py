"""A render service that answers what a test scripts: a given gRPC error, or a given reply.

Used for what the real render service cannot be made to do on demand (every status
code, a deadline overrun) and for the gateway's own behaviour around one call
(metadata, request ids, downloads). Unscripted methods answer UNIMPLEMENTED.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import grpc

from editai.render.v1 import render_pb2, render_pb2_grpc
from editai_common.errors import ServiceError, to_grpc_status

Answer = Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]]


@dataclass
class ScriptedRender:
    answers: dict[str, Answer] = field(default_factory=dict)
    calls: list[tuple[str, Any, dict[str, str]]] = field(default_factory=list)
    address: str = ""

    def reply(self, method: str, message: Any) -> None:
        async def answer(request: Any, context: grpc.aio.ServicerContext) -> Any:
            return message

        self.answers[method] = answer

    def fail(self, method: str, error: ServiceError) -> None:
        async def answer(request: Any, context: grpc.aio.ServicerContext) -> Any:
            await context.abort_with_status(to_grpc_status(error, domain="render.editai"))  # type: ignore[attr-defined]

        self.answers[method] = answer

    def fail_plain(self, method: str, code: grpc.StatusCode, message: str) -> None:
        """An error without rich details, as a transport or a foreign server would send."""

        async def answer(request: Any, context: grpc.aio.ServicerContext) -> Any:
            await context.abort(code, message)

        self.answers[method] = answer

    def stall(self, method: str, seconds: float) -> None:
        async def answer(request: Any, context: grpc.aio.ServicerContext) -> Any:
            await asyncio.sleep(seconds)
            return render_pb2.GetProjectResponse()

        self.answers[method] = answer


def _servicer(script: ScriptedRender) -> render_pb2_grpc.RenderServiceServicer:
    class Servicer(render_pb2_grpc.RenderServiceServicer):
        pass

    def make(name: str) -> Callable[..., Awaitable[Any]]:
        async def method(_self: object, request: Any, context: grpc.aio.ServicerContext) -> Any:
            metadata = {k: v for k, v in context.invocation_metadata() or () if isinstance(v, str)}
            script.calls.append((name, request, metadata))
            answer = script.answers.get(name)
            if answer is None:
                await context.abort(grpc.StatusCode.UNIMPLEMENTED, f"{name} is not scripted")
            return await answer(request, context)  # type: ignore[misc]

        return method

    for name in render_pb2.DESCRIPTOR.services_by_name["RenderService"].methods_by_name:
        setattr(Servicer, name, make(name))
    return Servicer()


@asynccontextmanager
async def scripted_render() -> AsyncIterator[ScriptedRender]:
    script = ScriptedRender()
    # Like the real services: accept the gateway channels' keepalive pings (else GOAWAY too_many_pings).
    server = grpc.aio.server(
        options=[
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
        ]
    )
    render_pb2_grpc.add_RenderServiceServicer_to_server(_servicer(script), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    script.address = f"127.0.0.1:{port}"
    try:
        yield script
    finally:
        await server.stop(0)
