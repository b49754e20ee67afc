"""Request id, job id, project id and fencing token carried across process boundaries.

Inside a process these live in the log context (`editai_common.logs.log_context`),
so every JSON log line carries them. Between processes they travel as gRPC
metadata:

    x-request-id      one id per user request, set by the gateway (X-Request-Id or a fresh one)
    x-job-id          the render job a call works for, when there is one
    x-project-id      the project it concerns
    x-fencing-token   the lease token of the worker making the call

`RequestContextInterceptor` (installed by `run_grpc_service`) reads them from an
incoming call; `ContextMetadataClientInterceptor` (registered on every channel from
`open_channel`) writes the current ones onto outgoing calls; `RequestIdMiddleware`
is the gateway's entry point. Values are checked against a strict pattern before
they reach a log line: metadata is caller input. They are identifiers, never
secrets; nothing here reads `authorization`.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterator
from typing import Any

import grpc

from editai_common.grpc_interception import CallInterceptor, ServerCall
from editai_common.logs import current_log_context, log_context

REQUEST_ID_HEADER = "x-request-id"

# metadata key -> log field
PROPAGATED_FIELDS: dict[str, str] = {
    "x-request-id": "request_id",
    "x-job-id": "job_id",
    "x-project-id": "project_id",
    "x-fencing-token": "fencing_token",
}

_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")


def new_request_id() -> str:
    return uuid.uuid4().hex


def safe_id(value: str | None) -> str | None:
    """The value if it looks like an identifier (≤128 chars of [A-Za-z0-9._:-]), else None."""
    if value and _SAFE_ID.fullmatch(value):
        return value
    return None


def current_request_id() -> str | None:
    value = current_log_context().get("request_id")
    return str(value) if value else None


def fields_from_metadata(metadata: dict[str, str]) -> dict[str, str]:
    """The propagated fields present (and well-formed) in incoming metadata, as log fields."""
    fields: dict[str, str] = {}
    for key, field in PROPAGATED_FIELDS.items():
        value = metadata.get(key)
        if value and _SAFE_ID.fullmatch(value):
            fields[field] = value
    return fields


class RequestContextInterceptor(CallInterceptor):
    """Puts the caller's request id (a fresh one if none or malformed) and job fields in the log context."""

    @contextlib.contextmanager
    def around(self, call: ServerCall) -> Iterator[None]:
        fields = fields_from_metadata(call.metadata)
        fields.setdefault("request_id", new_request_id())
        with log_context(**fields):
            yield


def context_metadata() -> list[tuple[str, str]]:
    """The propagated fields of the current log context, as metadata pairs."""
    current = current_log_context()
    pairs = []
    for key, field in PROPAGATED_FIELDS.items():
        value = current.get(field)
        if value not in (None, ""):
            pairs.append((key, str(value)))
    return pairs


def with_metadata(details: grpc.aio.ClientCallDetails, extra: list[tuple[str, str]]) -> grpc.aio.ClientCallDetails:
    """A copy of `details` whose metadata has `extra` added (keys already set by the caller win)."""
    if not extra:
        return details
    existing = list(details.metadata or ())
    present = {key for key, _ in existing}
    merged = grpc.aio.Metadata(*existing, *((k, v) for k, v in extra if k not in present))
    return grpc.aio.ClientCallDetails(
        details.method, details.timeout, merged, details.credentials, details.wait_for_ready
    )


class MetadataClientInterceptor(
    grpc.aio.UnaryUnaryClientInterceptor,
    grpc.aio.UnaryStreamClientInterceptor,
    grpc.aio.StreamUnaryClientInterceptor,
    grpc.aio.StreamStreamClientInterceptor,
):
    """Base: adds `extra_metadata()` to every outgoing call, whatever its kind."""

    def extra_metadata(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(with_metadata(details, self.extra_metadata()), request)

    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(with_metadata(details, self.extra_metadata()), request)

    async def intercept_stream_unary(self, continuation: Any, details: Any, request_iterator: Any) -> Any:
        return await continuation(with_metadata(details, self.extra_metadata()), request_iterator)

    async def intercept_stream_stream(self, continuation: Any, details: Any, request_iterator: Any) -> Any:
        return await continuation(with_metadata(details, self.extra_metadata()), request_iterator)


class ContextMetadataClientInterceptor(MetadataClientInterceptor):
    """Carries request id, job id, project id and fencing token to the service being called."""

    def extra_metadata(self) -> list[tuple[str, str]]:
        return context_metadata()


class RequestIdMiddleware:
    """ASGI middleware for the gateway: one request id per HTTP request.

    Takes `X-Request-Id` from the client when it is a sane identifier, otherwise
    makes one; puts it in the log context (and so on every gRPC call made while
    answering) and echoes it in the response's `X-Request-Id` header.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = None
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                given = safe_id(value.decode("latin-1"))
                break
        request_id = given or new_request_id()

        async def send_with_id(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        with log_context(request_id=request_id):
            await self.app(scope, receive, send_with_id)
