"""DESIGN §5.4 "Progress survives restarts": SIGKILL the progress process mid-job."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import grpc
import pytest

from editai.progress.v1 import progress_pb2
from tests.conftest import StartService
from tests.progress_support.client import SUCCEEDED, Watch, get_job, get_project, report, stub
from tests.progress_support.database import wipe_redis

pytestmark = pytest.mark.e2e

ChannelFactory = Callable[[str], grpc.aio.Channel]
FLUSH_INTERVAL_MS = 100


async def report_up_to_30_percent(service: object, job_id: str) -> dict[float, float]:
    """Reports 2%, 4%, … 30% about every 20 ms; returns when each value was acknowledged."""
    acked: dict[float, float] = {}
    for pct in range(2, 31, 2):
        await report(service, job_id, float(pct), project_id="project-r")  # type: ignore[arg-type]
        acked[float(pct)] = time.monotonic()
        await asyncio.sleep(0.02)
    return acked


async def test_get_progress_after_sigkill_returns_the_last_saved_value(
    start_service: StartService, grpc_channel_factory: ChannelFactory
) -> None:
    process = start_service("progress", EDITAI_PROGRESS_FLUSH_INTERVAL_MS=str(FLUSH_INTERVAL_MS))
    service = stub(grpc_channel_factory(process.address))
    await report_up_to_30_percent(service, "job-k")
    process.restart()  # SIGKILL, then the same command on the same port
    service = stub(grpc_channel_factory(process.address))
    assert (await get_job(service, "job-k")).percentage == 30
    assert (await get_project(service, "project-r")).percentage == 30


async def test_after_sigkill_and_lost_redis_the_database_value_is_at_most_one_flush_interval_old(
    start_service: StartService, grpc_channel_factory: ChannelFactory, redis_url: str, redis_prefix: str
) -> None:
    """The write-behind promise: durable within one flush interval of the last acknowledged update."""
    process = start_service("progress", EDITAI_PROGRESS_FLUSH_INTERVAL_MS=str(FLUSH_INTERVAL_MS))
    service = stub(grpc_channel_factory(process.address))
    acked = await report_up_to_30_percent(service, "job-w")
    killed_at = time.monotonic()
    process.kill()
    assert wipe_redis(redis_url, redis_prefix) > 0
    process.start()
    service = stub(grpc_channel_factory(process.address))
    recovered = await get_job(service, "job-w")  # from Postgres, then put back into Redis
    assert recovered.percentage > 0
    staleness = killed_at - acked[recovered.percentage]
    # One interval, plus the time one flush takes to run: the promise is ≤ 250 ms.
    assert staleness <= 0.25, f"value {recovered.percentage}% was {staleness * 1000:.0f} ms old"
    wipe_redis(redis_url, redis_prefix)
    assert (await get_project(service, "project-r")).job_id == "job-w"
    # Monotonicity holds across the loss: a late lower value does not win.
    assert (await report(service, "job-w", 1.0, project_id="project-r")).percentage == recovered.percentage


async def test_watchers_on_a_second_replica_keep_receiving_across_a_restart(
    start_service: StartService, grpc_channel_factory: ChannelFactory
) -> None:
    replica_a = start_service("progress")
    replica_b = start_service("progress")
    on_a = stub(grpc_channel_factory(replica_a.address))
    await report(on_a, "job-x", 5)
    watch = Watch(stub(grpc_channel_factory(replica_b.address)), progress_pb2.WatchProgressRequest(job_id="job-x"))
    await report_up_to_30_percent(on_a, "job-x")
    await watch.wait_for(30)
    replica_a.restart()
    on_a = stub(grpc_channel_factory(replica_a.address))
    await report(on_a, "job-x", 60)
    await watch.wait_for(60)
    await report(on_a, "job-x", 100, status=SUCCEEDED)
    await watch.ended()
    assert watch.received[-1].status == SUCCEEDED
    percentages = [p.percentage for p in watch.received]
    assert percentages == sorted(percentages)
