"""A base for server interceptors that run code *around* every call, whatever its kind.

grpc.aio hands an interceptor the method handler, which comes in four shapes
(unary/stream request × unary/stream response). Metrics, request context and
tracing all want the same thing: "enter something before the call, leave it
when the call ends, knowing how it ended". `CallInterceptor` does the wrapping
once; a subclass only writes `around(call)`, a context manager.

The context manager is entered in the task that runs the call, so contextvars it
sets (log fields, the current span) are seen by the servicer and by every
outgoing call it makes. For a streaming response it stays open until the last
message is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc


@dataclass(frozen=True)
class ServerCall:
    """What an interceptor knows about one incoming call."""

    full_method: str  # "/editai.render.v1.RenderService/CreateProject"
    metadata: dict[str, str]
    context: grpc.aio.ServicerContext

    @property
    def service(self) -> str:
        return self.full_method.rsplit("/", 2)[-2] if self.full_method.count("/") >= 2 else ""

    @property
    def method(self) -> str:
        return self.full_method.rsplit("/", 1)[-1]


def metadata_dict(pairs: Any) -> dict[str, str]:
    """Text metadata as a dict (binary `-bin` entries and repeats beyond the first are ignored)."""
    found: dict[str, str] = {}
    for key, value in pairs or ():
        name = key.lower()
        if isinstance(value, str) and name not in found:
            found[name] = value
    return found


def final_code(context: grpc.aio.ServicerContext, error: BaseException | None) -> grpc.StatusCode:
    """The status a finished call answered with, as far as the server can tell."""
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code
    if isinstance(code, int):
        for candidate in grpc.StatusCode:
            if candidate.value[0] == code:
                return candidate
    if error is None:
        return grpc.StatusCode.OK
    if isinstance(error, asyncio.CancelledError):
        return grpc.StatusCode.CANCELLED
    return grpc.StatusCode.UNKNOWN


class CallInterceptor(grpc.aio.ServerInterceptor):
    """Runs `around(call)` around every handled call; subclasses define `around`."""

    def around(self, call: ServerCall) -> contextlib.AbstractContextManager[None]:
        raise NotImplementedError

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:  # unknown method: grpc answers UNIMPLEMENTED itself
            return handler
        method: str = handler_call_details.method
        metadata = metadata_dict(handler_call_details.invocation_metadata)
        kinds = (
            (handler.unary_unary, grpc.unary_unary_rpc_method_handler, False),
            (handler.unary_stream, grpc.unary_stream_rpc_method_handler, True),
            (handler.stream_unary, grpc.stream_unary_rpc_method_handler, False),
            (handler.stream_stream, grpc.stream_stream_rpc_method_handler, True),
        )
        for behavior, make_handler, streams_out in kinds:
            if behavior is not None:
                wrap = self._wrap_stream if streams_out else self._wrap_unary
                return make_handler(
                    wrap(behavior, method, metadata),
                    request_deserializer=handler.request_deserializer,
                    response_serializer=handler.response_serializer,
                )
        return handler

    def _wrap_unary(self, behavior: Callable[..., Any], method: str, metadata: dict[str, str]) -> Callable[..., Any]:
        async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
            with self.around(ServerCall(method, metadata, context)):
                result = behavior(request, context)
                return await result if inspect.isawaitable(result) else result

        return unary

    def _wrap_stream(self, behavior: Callable[..., Any], method: str, metadata: dict[str, str]) -> Callable[..., Any]:
        async def stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            with self.around(ServerCall(method, metadata, context)):
                result = behavior(request, context)
                if inspect.isawaitable(result):  # a handler that writes with context.write()
                    await result
                    return
                async for item in result:
                    yield item

        return stream


class CombinedInterceptor(CallInterceptor):
    """Several `CallInterceptor`s as one: the call is wrapped once, their `around`s nest in order.

    Cheaper than installing them separately (one handler rebuilt per call instead of one each).
    """

    def __init__(self, *parts: CallInterceptor) -> None:
        self._parts = parts

    @contextlib.contextmanager
    def around(self, call: ServerCall) -> Iterator[None]:
        with contextlib.ExitStack() as stack:
            for part in self._parts:
                stack.enter_context(part.around(call))
            yield
