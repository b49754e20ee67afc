"""OpenTelemetry tracing across gateway → render → tts/progress, W3C `traceparent` in metadata.

Every process runs the OpenTelemetry SDK so that trace ids exist and travel from
the gateway's HTTP request through every gRPC hop (and appear as `trace_id` in the
JSON logs). Exporting spans is optional and off by default:

    EDITAI_OTEL_EXPORTER=none      (default) spans are made and dropped
    EDITAI_OTEL_EXPORTER=console   spans printed as JSON on stderr, one line each
    EDITAI_OTEL_EXPORTER=otlp      OTLP/gRPC to OTEL_EXPORTER_OTLP_ENDPOINT; needs the `otlp` extra
                                   (opentelemetry-exporter-otlp-proto-grpc), which the image installs;
                                   locally `.venv/bin/pip install -e ".[otlp]"`

Small interceptors rather than opentelemetry-instrumentation-grpc: they are the
same few lines, work with the grpc.aio interceptor chain already in place and pull
in no monkey-patching.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import grpc
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from editai_common.grpc_interception import CallInterceptor, ServerCall, final_code
from editai_common.logs import log_context
from editai_common.request_context import MetadataClientInterceptor
from editai_common.settings import ConfigError

EXPORTERS = ("none", "console", "otlp")
_TRACER_NAME = "editai"
_configured: TracerProvider | None = None
_exporting = False


def configure_tracing(service: str, env: Mapping[str, str]) -> TracerProvider:
    """Installs the SDK tracer provider for this process once; later calls return it."""
    global _configured
    if _configured is not None:
        return _configured
    exporter_name = env.get("EDITAI_OTEL_EXPORTER", "none").strip().lower() or "none"
    if exporter_name not in EXPORTERS:
        raise ConfigError(f"EDITAI_OTEL_EXPORTER={exporter_name!r} must be one of {', '.join(EXPORTERS)}.")
    global _exporting
    provider = TracerProvider(resource=Resource.create({"service.name": f"editai-{service}"}))
    _exporting = exporter_name != "none"
    if not _exporting:
        # Spans nobody exports cost ~60 µs a call in the SDK; ids are propagated without it.
        _configured = provider
        return provider
    if exporter_name == "console":
        # One line per span on stderr, beside the JSON logs (stdout carries the `serving` line).
        exporter = ConsoleSpanExporter(out=sys.stderr, formatter=lambda span: span.to_json(indent=None) + "\n")
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    elif exporter_name == "otlp":
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        except ImportError:
            raise ConfigError(
                "EDITAI_OTEL_EXPORTER=otlp needs the package opentelemetry-exporter-otlp-proto-grpc==1.45.2."
            ) from None
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _configured = provider
    return provider


def shutdown_tracing() -> None:
    """Flushes spans still buffered (call last in a service's shutdown)."""
    if _configured is not None:
        _configured.shutdown()


def tracer() -> trace.Tracer:
    return trace.get_tracer(_TRACER_NAME)


_TRACEPARENT = re.compile(r"(?P<version>[0-9a-f]{2})-(?P<trace>[0-9a-f]{32})-(?P<span>[0-9a-f]{16})-[0-9a-f]{2}(-.*)?")
_INVALID_TRACE = "0" * 32
_INVALID_SPAN = "0" * 16
# Not exporting: the traceparent to hand on to outgoing calls while handling a request.
_forwarded_traceparent: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "editai_forwarded_traceparent", default=None
)


@dataclass(frozen=True)
class ServerSpan:
    """The trace a request belongs to; `span` is the SDK span when spans are exported, else None."""

    trace_id: str
    span: trace.Span | None


@contextlib.contextmanager
def server_span(name: str, carrier: Mapping[str, str], attributes: dict[str, Any]) -> Iterator[ServerSpan]:
    """The current trace while handling one incoming request, continuing the caller's `traceparent`.

    Exporting: a real SDK span, current for the request. Not exporting (the default): no
    span and no SDK work — the caller's traceparent (or a fresh one) is kept in a contextvar
    for outgoing calls and its trace id goes to the logs, at a few µs a call.
    """
    if _exporting:
        with tracer().start_as_current_span(
            name,
            context=propagate.extract(carrier),
            kind=SpanKind.SERVER,
            attributes=attributes,
            record_exception=False,  # tracebacks stay in the service's own log, not in spans
            set_status_on_exception=False,
        ) as span:
            yield ServerSpan(format(span.get_span_context().trace_id, "032x"), span)
        return
    trace_id, token = continue_trace(carrier)
    try:
        yield ServerSpan(trace_id, None)
    finally:
        _forwarded_traceparent.reset(token)


def exporting() -> bool:
    """Whether spans are recorded and exported (EDITAI_OTEL_EXPORTER other than none)."""
    return _exporting


def continue_trace(carrier: Mapping[str, str]) -> tuple[str, contextvars.Token[str | None]]:
    """Not exporting: takes the caller's traceparent (or starts a trace) for outgoing calls.

    Returns the trace id and the token that `end_trace` takes when the request is done.
    """
    incoming = carrier.get("traceparent", "")
    found = _TRACEPARENT.fullmatch(incoming) if incoming else None
    if found and found["version"] != "ff" and found["trace"] != _INVALID_TRACE and found["span"] != _INVALID_SPAN:
        trace_id, forwarded = found["trace"], incoming
    else:
        ids = os.urandom(24).hex()
        trace_id, forwarded = ids[:32], f"00-{ids[:32]}-{ids[32:]}-00"
    return trace_id, _forwarded_traceparent.set(forwarded)


def end_trace(token: contextvars.Token[str | None]) -> None:
    _forwarded_traceparent.reset(token)


class TracingServerInterceptor(CallInterceptor):
    """A SERVER span per call, child of the caller's `traceparent`; its trace id goes into the logs."""

    @contextlib.contextmanager
    def around(self, call: ServerCall) -> Iterator[None]:
        attributes = {"rpc.system": "grpc", "rpc.service": call.service, "rpc.method": call.method}
        with server_span(call.full_method.lstrip("/"), call.metadata, attributes) as current:
            error: BaseException | None = None
            try:
                with log_context(trace_id=current.trace_id):
                    yield
            except BaseException as raised:
                error = raised
                raise
            finally:
                if current.span is not None:
                    code = final_code(call.context, error)
                    current.span.set_attribute("rpc.grpc.status_code", code.value[0])
                    if code != grpc.StatusCode.OK:
                        current.span.set_status(Status(StatusCode.ERROR, code.name))


class TracingClientInterceptor(MetadataClientInterceptor):
    """Writes the current span's `traceparent` into outgoing metadata.

    The outgoing hop itself is recorded by the callee's SERVER span, so the
    client side adds no span of its own (keeps every call cheap).
    """

    def extra_metadata(self) -> list[tuple[str, str]]:
        if not _exporting:
            forwarded = _forwarded_traceparent.get()
            return [("traceparent", forwarded)] if forwarded else []
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        return list(carrier.items())


class TracingMiddleware:
    """ASGI middleware for the gateway: a SERVER span per HTTP request, continuing an incoming `traceparent`."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
        status = 500

        async def send_recording_status(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        method = scope.get("method", "")
        with server_span(f"{method} {scope.get('path', '')}", headers, {"http.request.method": method}) as current:
            try:
                with log_context(trace_id=current.trace_id):
                    await self.app(scope, receive, send_recording_status)
            finally:
                if current.span is not None:
                    _annotate_http_span(current.span, method, getattr(scope.get("route"), "path", None), status)


def _annotate_http_span(span: trace.Span, method: str, route: str | None, status: int) -> None:
    if route:
        span.update_name(f"{method} {route}")  # the template, not the path with its ids
        span.set_attribute("http.route", route)
    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        span.set_status(Status(StatusCode.ERROR))
