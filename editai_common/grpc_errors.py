"""The one place where domain errors become gRPC statuses (a server interceptor)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from editai_common.errors import Internal, ServiceError, to_grpc_status

log = logging.getLogger("editai.grpc")


class ErrorMappingInterceptor(grpc.aio.ServerInterceptor):
    """Turns `ServiceError`s into rich statuses and anything else into a bare INTERNAL.

    Unexpected exceptions are logged with their traceback here and reach the
    caller only as "Internal error" with a reference id, never as internals.
    """

    def __init__(self, domain: str) -> None:
        self._domain = domain

    async def _abort(self, context: grpc.aio.ServicerContext, error: Exception, method: str) -> None:
        if isinstance(error, NotImplementedError):
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, f"{method} is not implemented yet.")
        if not isinstance(error, ServiceError):
            log.exception("unhandled error in %s", method, exc_info=error)
            error = Internal("Internal error; the service logged the details.")
        await context.abort_with_status(to_grpc_status(error, domain=self._domain))  # type: ignore[attr-defined]

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._wrap_unary(handler.unary_unary, method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._wrap_stream(handler.unary_stream, method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler

    def _wrap_unary(self, behavior: Callable[..., Any], method: str) -> Callable[..., Any]:
        async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
            try:
                return await behavior(request, context)
            except (ServiceError, Exception) as error:
                if _is_abort(error):
                    raise
                await self._abort(context, error, method)

        return unary

    def _wrap_stream(self, behavior: Callable[..., Any], method: str) -> Callable[..., Any]:
        async def stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            try:
                async for item in behavior(request, context):
                    yield item
            except (ServiceError, Exception) as error:
                if _is_abort(error):
                    raise
                await self._abort(context, error, method)

        return stream


def _is_abort(error: BaseException) -> bool:
    # context.abort() raises grpc's own AbortError; it must pass through untouched.
    return type(error).__name__ in {"AbortError", "UsageError", "InternalError"} and type(error).__module__.startswith(
        "grpc"
    )
