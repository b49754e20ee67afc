"""Prometheus metrics: the named series every service records, and how they are served.

Services import the metric objects below and update them where the event happens;
nobody creates metrics of their own at import time elsewhere, so names and labels
stay in one list (docs/runbook.md explains how to read them):

    from editai_common.metrics import FFMPEG_SECONDS, RENDER_JOBS, TTS_CACHE_HITS
    RENDER_JOBS.labels(kind="final", state="completed").inc()

Per-RPC counts and latencies need no code in a service: `run_grpc_service` installs
`GrpcMetricsInterceptor` and serves `/metrics` on the service's metrics port
(`EDITAI_<SERVICE>_METRICS_PORT`, default the gRPC port + 1000; `off` disables it;
0 binds any free port, which the `serving` line announces). The gateway records
per-route counts with `HttpMetricsMiddleware` and answers `/metrics` itself
(`editai_common.observability.install_http_observability`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import grpc
import prometheus_client
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

from editai_common.grpc_interception import CallInterceptor, ServerCall, final_code
from editai_common.settings import ConfigError

log = logging.getLogger("editai.rpc")

# `_created` series double the output and no dashboard here reads them.
prometheus_client.disable_created_metrics()

# Seconds; covers a 1 ms GetProgress up to a five-minute render.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
MEDIA_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)

# --- gRPC servers (recorded by GrpcMetricsInterceptor) -------------------------------------------
GRPC_REQUESTS = Counter(
    "editai_grpc_requests",
    "gRPC calls handled, by service, method and final status code.",
    ["service", "method", "code"],
)
GRPC_REQUEST_SECONDS = Histogram(
    "editai_grpc_request_seconds",
    "Time from a gRPC call's arrival to its final status (streams: until the last message).",
    ["service", "method"],
    buckets=LATENCY_BUCKETS,
)
GRPC_IN_FLIGHT = Gauge("editai_grpc_requests_in_flight", "gRPC calls being handled right now.", ["service"])

# --- gateway HTTP (recorded by HttpMetricsMiddleware) ---------------------------------------------
HTTP_REQUESTS = Counter(
    "editai_http_requests",
    "HTTP requests answered by the gateway, by method, route template and status.",
    ["method", "route", "status"],
)
HTTP_REQUEST_SECONDS = Histogram(
    "editai_http_request_seconds",
    "Time to answer an HTTP request (streams: until the body ends).",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)

# --- render (updated by the render service) -------------------------------------------------------
RENDER_JOBS = Counter(
    "editai_render_jobs",
    "Render jobs that reached a state, by job kind (raw_clips, segments, final, process_video) and state "
    "(accepted, started, completed, failed, cancelled, retried, rejected_locked).",
    ["kind", "state"],
)
RENDER_JOBS_ACTIVE = Gauge("editai_render_jobs_active", "Render jobs running in this process, by kind.", ["kind"])
RENDER_QUEUE_DEPTH = Gauge("editai_render_queue_depth", "Render jobs waiting for a worker, as last seen here.")
FFMPEG_SECONDS = Histogram(
    "editai_ffmpeg_seconds",
    "Wall time of ffmpeg runs by operation and outcome (ok, failed, cancelled, timeout); _sum is ffmpeg seconds.",
    ["operation", "outcome"],
    buckets=MEDIA_BUCKETS,
)


@contextlib.contextmanager
def observe_ffmpeg(operation: str) -> Iterator[None]:
    """Times one ffmpeg run into FFMPEG_SECONDS{operation, outcome}; the outcome comes from how the block ends.

    with observe_ffmpeg("final_render"):
        await run_ffmpeg(args, time_limit=...)
    """
    started = time.perf_counter()
    outcome = "failed"
    try:
        yield
        outcome = "ok"
    except asyncio.CancelledError:
        outcome = "cancelled"
        raise
    except Exception as error:
        # DeadlineExceeded from run_ffmpeg's time limit, without importing the error tree here.
        outcome = "timeout" if type(error).__name__ in {"DeadlineExceeded", "TimeoutError"} else "failed"
        raise
    finally:
        FFMPEG_SECONDS.labels(operation=operation, outcome=outcome).observe(time.perf_counter() - started)


# --- tts (updated by the tts service) -------------------------------------------------------------
TTS_UPSTREAM_REQUESTS = Counter(
    "editai_tts_upstream_requests",
    "Calls to the speech provider upstream (ElevenLabs), by HTTP status or error kind (timeout, connect).",
    ["status"],
)
TTS_UPSTREAM_SECONDS = Histogram(
    "editai_tts_upstream_seconds", "Latency of upstream speech calls.", buckets=LATENCY_BUCKETS
)
TTS_CACHE_HITS = Counter("editai_tts_cache_hits", "Synthesize calls answered from the content-hash cache.")
TTS_CACHE_MISSES = Counter("editai_tts_cache_misses", "Synthesize calls that had to synthesize.")

# --- progress (updated by the progress service) ---------------------------------------------------
PROGRESS_FLUSH_LAG = Histogram(
    "editai_progress_flush_lag_seconds",
    "Time from accepting a progress update to it being durable in Postgres.",
    buckets=LATENCY_BUCKETS,
)
PROGRESS_PENDING_WRITES = Gauge("editai_progress_pending_writes", "Accepted progress updates not yet durable.")

# OK calls are routine (DEBUG); anything else is worth a line at INFO.
_QUIET_METHODS = frozenset({"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch"})


class GrpcMetricsInterceptor(CallInterceptor):
    """Counts every call by method and final code, times it, and logs one access line."""

    def __init__(self, service: str) -> None:
        self._service = service
        self._in_flight = GRPC_IN_FLIGHT.labels(service=service)
        # labels() takes a lock and builds a key on every call; methods and codes are few, keep the children.
        self._counts: dict[tuple[str, str], Any] = {}
        self._latencies: dict[str, Any] = {}

    def _count(self, method: str, code: str) -> Any:
        child = self._counts.get((method, code))
        if child is None:
            child = self._counts[(method, code)] = GRPC_REQUESTS.labels(service=self._service, method=method, code=code)
        return child

    def _latency(self, method: str) -> Any:
        child = self._latencies.get(method)
        if child is None:
            child = self._latencies[method] = GRPC_REQUEST_SECONDS.labels(service=self._service, method=method)
        return child

    @contextlib.contextmanager
    def around(self, call: ServerCall) -> Iterator[None]:
        started = self.started()
        error: BaseException | None = None
        try:
            yield
        except BaseException as raised:
            error = raised
            raise
        finally:
            self.finished(call, started, error)

    def started(self) -> float:
        self._in_flight.inc()
        return time.perf_counter()

    def finished(self, call: ServerCall, started: float, error: BaseException | None) -> None:
        """Records the call (and logs its `rpc finished` line: inside the call's log context, so with its ids)."""
        self._in_flight.dec()
        elapsed = time.perf_counter() - started
        code = final_code(call.context, error)
        method = call.full_method.lstrip("/")
        self._count(method, code.name).inc()
        self._latency(method).observe(elapsed)
        level = logging.DEBUG if code == grpc.StatusCode.OK or call.full_method in _QUIET_METHODS else logging.INFO
        if log.isEnabledFor(level):
            log.log(
                level, "rpc finished", extra={"rpc": method, "code": code.name, "duration_ms": round(elapsed * 1000, 3)}
            )


# --- the metrics endpoint of a gRPC service -------------------------------------------------------

METRICS_PORT_OFFSET = 1000


def metrics_port_from_env(service: str, grpc_port: int, env: Mapping[str, str]) -> int | None:
    """EDITAI_<SERVICE>_METRICS_PORT: a port, `off` for none; default gRPC port + 1000 (any free port for 0)."""
    # "render-worker" reads EDITAI_RENDER_WORKER_METRICS_PORT: hyphens cannot be in a variable name.
    name = f"EDITAI_{service.upper().replace('-', '_')}_METRICS_PORT"
    raw = env.get(name, "").strip().lower()
    if raw in {"off", "none", "disabled", "false"}:
        return None
    if raw == "":
        default = grpc_port + METRICS_PORT_OFFSET if grpc_port else 0
        return default if default <= 65535 else 0
    try:
        port = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a port number (or 'off').") from None
    if not 0 <= port <= 65535:
        raise ConfigError(f"{name}={port} is not a port number (0-65535).")
    return port


@dataclass
class MetricsServer:
    """The Prometheus HTTP endpoint (a daemon thread) of one process."""

    port: int
    _server: Any
    _thread: Any

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def start_metrics_server(port: int, host: str = "0.0.0.0") -> MetricsServer:
    """Serves the default registry on http://host:port/metrics; port 0 picks a free one."""
    server, thread = prometheus_client.start_http_server(port, addr=host)
    return MetricsServer(port=server.server_port, _server=server, _thread=thread)


def render_latest() -> tuple[bytes, str]:
    """The exposition text of the default registry and its content type (for the gateway's /metrics)."""
    return generate_latest(), CONTENT_TYPE_LATEST


# --- the gateway's HTTP metrics -------------------------------------------------------------------

UNMATCHED_ROUTE = "unmatched"  # 404s for arbitrary paths must not create a series each
_QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
http_log = logging.getLogger("editai.http")


class HttpMetricsMiddleware:
    """ASGI middleware: counts and times every HTTP request by route *template* and status.

    The route template (`/api/v1/library/projects/{project_id}`) comes from the
    route Starlette matched, so ids in paths never become label values.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # if the app dies before answering, the server answers 500

        async def send_recording_status(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_recording_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or UNMATCHED_ROUTE
            method = scope.get("method", "")
            elapsed = time.perf_counter() - started
            HTTP_REQUESTS.labels(method=method, route=template, status=str(status)).inc()
            HTTP_REQUEST_SECONDS.labels(method=method, route=template).observe(elapsed)
            # Like "rpc finished": failures at INFO, routine answers (and probes/scrapes) at DEBUG.
            level = logging.INFO if status >= 400 and template not in _QUIET_ROUTES else logging.DEBUG
            if http_log.isEnabledFor(level):
                fields = {"method": method, "route": template, "status": status}
                http_log.log(level, "http finished", extra={**fields, "duration_ms": round(elapsed * 1000, 3)})
