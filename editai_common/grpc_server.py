"""Running a grpc.aio service: health, reflection, error mapping, graceful shutdown.

    async def setup(ctx: ServerContext) -> AsyncIterator[None]:
        pool = await open_pool(...)
        ctx.add(PROGRESS_SERVICE, progress_pb2_grpc.add_ProgressServiceServicer_to_server, servicer)
        yield                       # serving
        await pool.close()          # after the server drained

    asyncio.run(run_grpc_service("progress", port, contextlib.asynccontextmanager(setup)))

On start the runner prints one JSON line to stdout, `{"event": "serving", "service":
..., "port": N}` (port 0 binds an ephemeral port, tests read it from that line). On
SIGTERM or SIGINT: health NOT_SERVING, stop accepting calls, drain in-flight calls for
the grace period, then leave the setup context so pools close last.

Every service also gets, without code of its own (editai_common.observability):
request ids and job fields from metadata in its log lines, a span per call, and
Prometheus metrics per method and code on `EDITAI_<SERVICE>_METRICS_PORT` (default
gRPC port + 1000), announced as `"metrics_port"` in the serving line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from editai_common.grpc_errors import ErrorMappingInterceptor

log = logging.getLogger("editai.server")

# Big enough for any control message; media never travels as one message.
MAX_MESSAGE_BYTES = 8 * 1024 * 1024


@dataclass
class ServerContext:
    """Handed to a service's setup: where it registers servicers and reports health."""

    server: grpc.aio.Server
    health: HealthServicer
    service_names: list[str] = field(default_factory=list)

    def add(self, service_name: str, add_to_server: Callable[[Any, grpc.aio.Server], None], servicer: Any) -> None:
        add_to_server(servicer, self.server)
        self.service_names.append(service_name)

    async def set_serving(self, service_name: str, serving: bool) -> None:
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        await self.health.set(service_name, status)


Setup = Callable[[ServerContext], contextlib.AbstractAsyncContextManager[None]]


def announce(service: str, port: int, **extra: Any) -> None:
    print(json.dumps({"event": "serving", "service": service, "port": port, **extra}), flush=True)


class _FromEnv:
    """Marker: read the metrics port from EDITAI_<SERVICE>_METRICS_PORT."""


METRICS_PORT_FROM_ENV = _FromEnv()


async def run_grpc_service(
    service: str,
    *,
    port: int,
    domain: str,
    setup: Setup,
    host: str = "[::]",
    grace_seconds: float = 10.0,
    interceptors: tuple[grpc.aio.ServerInterceptor, ...] = (),
    stop_event: asyncio.Event | None = None,
    metrics_port: int | _FromEnv | None = METRICS_PORT_FROM_ENV,
) -> None:
    """Serve until SIGTERM/SIGINT (or `stop_event`), then shut down gracefully.

    `metrics_port`: where /metrics is served (0 = any free port, None = not at all);
    by default from EDITAI_<SERVICE>_METRICS_PORT, else the gRPC port + 1000.
    """
    import os

    from editai_common.metrics import metrics_port_from_env
    from editai_common.observability import grpc_server_interceptors
    from editai_common.tracing import shutdown_tracing

    metrics_port_is_default = isinstance(metrics_port, _FromEnv) and not os.environ.get(
        f"EDITAI_{service.upper().replace('-', '_')}_METRICS_PORT"
    )
    if isinstance(metrics_port, _FromEnv):
        metrics_port = metrics_port_from_env(service, port, os.environ)
    stop = stop_event or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    server = grpc.aio.server(
        interceptors=(*grpc_server_interceptors(service), *interceptors, ErrorMappingInterceptor(domain)),
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
        ],
    )
    health = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    ctx = ServerContext(server=server, health=health)
    metrics = None

    async with setup(ctx):
        names = [*ctx.service_names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name]
        reflection.enable_server_reflection([*names, reflection.SERVICE_NAME], server)
        bound = server.add_insecure_port(f"{host}:{port}")
        if bound == 0:
            raise SystemExit(f"{service}: could not bind port {port}")
        metrics = _start_metrics(service, metrics_port, fall_back=metrics_port_is_default)
        await server.start()
        for name in ("", *ctx.service_names):
            await health.set(name, health_pb2.HealthCheckResponse.SERVING)
        metrics_extra = {"metrics_port": metrics.port} if metrics is not None else {}
        announce(service, bound, **metrics_extra)
        log.info("serving", extra={"service": service, "port": bound, **metrics_extra})
        await stop.wait()
        log.info("shutting down", extra={"service": service, "grace_seconds": grace_seconds})
        await health.enter_graceful_shutdown()
        await server.stop(grace_seconds)
    # After the service's own shutdown (jobs handed back, pools closed): it may still count and trace.
    if metrics is not None:
        metrics.close()
    shutdown_tracing()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.remove_signal_handler(sig)
    log.info("stopped", extra={"service": service})


def _start_metrics(service: str, port: int | None, *, fall_back: bool) -> Any:
    """The metrics endpoint; a busy *default* port falls back to any free one (announced), a configured one fails."""
    from editai_common.metrics import start_metrics_server

    if port is None:
        return None
    try:
        return start_metrics_server(port)
    except OSError as error:
        if not fall_back:
            raise SystemExit(f"{service}: could not serve metrics on port {port}: {error.strerror}") from None
        log.warning("default metrics port busy; using a free one", extra={"metrics_port_wanted": port})
        return start_metrics_server(0)


def exit_on_config_error(main: Callable[[], None]) -> None:
    """Run a service's main; a configuration error prints one sentence, not a traceback."""
    from editai_common.settings import ConfigError

    try:
        main()
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
