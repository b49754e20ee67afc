"""SIGTERM on a gRPC service: it drains and exits 0, in the order docs/runbook.md describes."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.conftest import StartService


async def test_sigterm_stops_a_service_cleanly_and_in_order(start_service: StartService) -> None:
    progress = start_service("progress")
    async with grpc.aio.insecure_channel(progress.address) as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING

    assert progress.terminate(timeout=30) == 0

    events = [entry["event"] for entry in progress.log_entries() if entry.get("logger") == "editai.server"]
    assert events[-3:] == ["serving", "shutting down", "stopped"], events
