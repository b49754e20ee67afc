"""What the per-call observability costs: request context, span and metrics interceptors.

Baseline: a grpc.aio server with only the error-mapping interceptor (what every service had
before). Measured: the same server with the interceptors `run_grpc_service` adds. Both
answer the standard health Check (no work of its own), so the difference is the
interceptors' cost. Calls run 32 at a time from one client over loopback, in the same
process, alternating baseline and measured rounds so drift hits both alike.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer

from editai_common.grpc_errors import ErrorMappingInterceptor
from editai_common.observability import grpc_server_interceptors

CALLS = 4000
CONCURRENCY = 32
ROUNDS = 3


async def serve(instrumented: bool) -> tuple[grpc.aio.Server, int]:
    extra = grpc_server_interceptors("bench", {}) if instrumented else ()
    server = grpc.aio.server(interceptors=(*extra, ErrorMappingInterceptor("bench.editai")))
    health = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    await health.set("", health_pb2.HealthCheckResponse.SERVING)
    return server, port


async def run_round(port: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        await stub.Check(health_pb2.HealthCheckRequest(), metadata=[("x-request-id", "bench")])
        remaining = CALLS

        async def caller() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                await stub.Check(health_pb2.HealthCheckRequest(), metadata=[("x-request-id", "bench-1")])
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
    return CALLS / elapsed, latencies


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000


async def measure() -> None:
    logging.getLogger("editai").setLevel(logging.INFO)  # OK calls log at DEBUG: off, as in production
    servers = {False: await serve(False), True: await serve(True)}
    results: dict[bool, list[tuple[float, list[float]]]] = {False: [], True: []}
    for _ in range(ROUNDS):
        for instrumented in (False, True):
            results[instrumented].append(await run_round(servers[instrumented][1]))
    for server, _ in servers.values():
        await server.stop(None)
    rows = {}
    for instrumented, rounds in results.items():
        rate = statistics.median(r for r, _ in rounds)
        lat = [x for _, ls in rounds for x in ls]
        rows[instrumented] = (rate, p(lat, 50), p(lat, 99))
        name = "with observability" if instrumented else "baseline"
        rate, p50, p99 = rows[instrumented]
        print(f"{name:>20}: {rate:8.0f} calls/s   p50 {p50:.2f} ms   p99 {p99:.2f} ms")
    (base_rate, base_p50, base_p99), (rate, p50, p99) = rows[False], rows[True]
    print(f"{'ratio':>20}: throughput x{rate / base_rate:.2f}   p50 x{p50 / base_p50:.2f}   p99 x{p99 / base_p99:.2f}")
    await per_call_cost()


async def per_call_cost() -> None:
    """The interceptor alone around a handler that does nothing: its CPU cost per call, without the network."""

    class Context:
        def code(self) -> None:
            return None

    class Details:
        method = "/grpc.health.v1.Health/Check"
        invocation_metadata = (("x-request-id", "bench-1"), ("user-agent", "grpc-python"))

    async def behavior(request: object, context: object) -> int:
        return 1

    handler = grpc.unary_unary_rpc_method_handler(behavior)

    async def continuation(details: object) -> grpc.RpcMethodHandler:
        return handler

    (interceptor,) = grpc_server_interceptors("bench", {})
    calls = 20_000
    timings = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(calls):
            wrapped = await interceptor.intercept_service(continuation, Details())  # type: ignore[arg-type]
            await wrapped.unary_unary(None, Context())  # type: ignore[misc,arg-type]
        timings.append((time.perf_counter() - started) / calls * 1e6)
    print(f"{'interceptor cost':>20}: {min(timings):.1f} µs per call (best of {ROUNDS} × {calls})")


def main() -> None:
    asyncio.run(measure())


if __name__ == "__main__":
    main()
