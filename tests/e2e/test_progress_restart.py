"""Progress survives restarts (DESIGN.md §5.4), with real processes and SIGKILL.

The durability promise under test (services/progress/tracker.py): terminal states
are in Postgres before UpdateProgress returns; non-terminal progress reaches
Postgres within one flush interval, so after a SIGKILL *and* the loss of Redis,
GetProgress answers a value at most one flush interval older than the last ack.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

import grpc
import pytest

from editai.progress.v1 import progress_pb2
from tests.conftest import StartService
from tests.progress_support.backends import stored_row, wipe_hot_store
from tests.progress_support.client import SUCCEEDED, Watch, get_job, get_project, report, stub

pytestmark = pytest.mark.e2e

FLUSH_INTERVAL = 0.1
# Scheduling noise on a loaded 2-core machine, on top of the promised interval.
SLACK = 0.15

ChannelFactory = Callable[[str], grpc.aio.Channel]


def new_id(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:12]}"


async def test_last_saved_progress_survives_sigkill_and_restart(
    start_service: StartService, grpc_channel_factory: ChannelFactory
) -> None:
    process = start_service("progress")
    service = stub(grpc_channel_factory(process.address))
    job, project = new_id("job"), new_id("project")
    for percentage in range(0, 31, 3):
        await report(service, job, percentage, project_id=project, step=f"encoding {percentage}")

    process.restart()  # SIGKILL, then the same port again

    by_job = await get_job(service, job)
    by_project = await get_project(service, project)
    assert (by_job.percentage, by_job.current_step) == (30, "encoding 30")
    assert by_project.job_id == job


async def test_after_sigkill_and_lost_redis_the_database_is_at_most_one_flush_interval_behind(
    start_service: StartService,
    grpc_channel_factory: ChannelFactory,
    redis_url: str,
    redis_prefix: str,
) -> None:
    process = start_service("progress", EDITAI_PROGRESS_FLUSH_INTERVAL_MS=str(int(FLUSH_INTERVAL * 1000)))
    service = stub(grpc_channel_factory(process.address))
    job = new_id("job")
    acked: list[tuple[float, float]] = []  # (when the ack arrived, percentage)
    for step in range(40):
        reply = await report(service, job, step * 0.75)
        acked.append((time.monotonic(), reply.percentage))
        await asyncio.sleep(0.02)

    killed_at = time.monotonic()
    process.kill()
    wipe_hot_store(redis_url, redis_prefix)  # Redis restarted without persistence
    process.start()

    recovered = await get_job(service, job)
    promised = max(p for at, p in acked if at <= killed_at - FLUSH_INTERVAL - SLACK)
    assert recovered.percentage >= promised > 0
    assert recovered.percentage <= acked[-1][1]
    # The value went back into the hot store, and the rules still hold on top of it.
    assert (await report(service, job, 1.0)).percentage == recovered.percentage


async def test_a_terminal_state_is_in_postgres_as_soon_as_it_is_acknowledged(
    start_service: StartService, grpc_channel_factory: ChannelFactory, database_url: str
) -> None:
    # The longest allowed interval: without the synchronous write, the kill lands before any flush.
    process = start_service("progress", EDITAI_PROGRESS_FLUSH_INTERVAL_MS="250")
    service = stub(grpc_channel_factory(process.address))
    job = new_id("job")
    await report(service, job, 80)
    await report(service, job, 100, status=SUCCEEDED, step="done")

    process.kill()

    row = stored_row(database_url, job)
    assert row is not None and (row["status"], row["percentage"]) == (SUCCEEDED, 100)


async def test_watchers_on_a_second_replica_keep_receiving_across_a_restart(
    start_service: StartService, grpc_channel_factory: ChannelFactory
) -> None:
    replica_a, replica_b = start_service("progress"), start_service("progress")
    worker = stub(grpc_channel_factory(replica_a.address))
    job = new_id("job")
    await report(worker, job, 10)
    watch = Watch(stub(grpc_channel_factory(replica_b.address)), progress_pb2.WatchProgressRequest(job_id=job))
    await watch.wait_for(10)

    replica_a.restart()
    await report(worker, job, 50)
    await watch.wait_for(50)
    await report(worker, job, 100, status=SUCCEEDED)

    await watch.ended()
    assert [p.percentage for p in watch.received] == [10, 50, 100]
    assert watch.received[-1].status == SUCCEEDED
