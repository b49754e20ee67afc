"""Container health check without extra binaries: `python deploy/healthcheck.py grpc 127.0.0.1:50051`
or `python deploy/healthcheck.py http http://127.0.0.1:8000/healthz`. Exit 0 when healthy.

The gRPC form asks the standard grpc.health.v1 service (overall status, service "").
Kubernetes uses its native `grpc:` probe instead; compose has no such thing.
"""

from __future__ import annotations

import sys
import urllib.request

TIMEOUT_SECONDS = 2.0


def grpc_serving(address: str) -> bool:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(address) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=TIMEOUT_SECONDS)
        except grpc.RpcError:
            return False
    return reply.status == health_pb2.HealthCheckResponse.SERVING


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as reply:
            return 200 <= reply.status < 300
    except OSError:
        return False


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in {"grpc", "http"}:
        print("usage: healthcheck.py grpc HOST:PORT | http URL", file=sys.stderr)
        return 2
    kind, target = argv
    healthy = grpc_serving(target) if kind == "grpc" else http_ok(target)
    return 0 if healthy else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
