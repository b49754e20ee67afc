"""Looking behind the progress service's back: its Postgres rows, its Redis keys, its health."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar

import grpc
import psycopg
import redis
from grpc_health.v1 import health_pb2, health_pb2_grpc

SERVICE_NAME = "editai.progress.v1.ProgressService"
T = TypeVar("T")


def stored_row(database_url: str, job_id: str) -> dict[str, Any] | None:
    """The job's durable row, read straight from the table (not through the service)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        cur = conn.execute(
            "SELECT percentage, status, sequence, fencing_token, error FROM progress.jobs WHERE job_id = %s",
            (job_id,),
        )
        row = cur.fetchone()
    if row is None:
        return None
    return dict(zip(("percentage", "status", "sequence", "fencing_token", "error"), row, strict=True))


def wipe_hot_store(redis_url: str, prefix: str) -> int:
    """Redis lost everything of this test (a restart without persistence)."""
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        return int(client.delete(*keys)) if keys else 0
    finally:
        client.close()


async def health_status(channel: grpc.aio.Channel, service: str = SERVICE_NAME) -> str:
    reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))


async def health_is(channel: grpc.aio.Channel, expected: str, service: str = SERVICE_NAME) -> bool:
    return await health_status(channel, service) == expected


async def eventually(check: Callable[[], Any], *, within: float = 10.0, interval: float = 0.05) -> Any:
    """Poll `check` (sync or async) until it returns something truthy; its last value otherwise fails."""
    deadline = time.monotonic() + within
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value or time.monotonic() > deadline:
            assert value, f"condition not met within {within} s (last value {value!r})"
            return value
        await asyncio.sleep(interval)
