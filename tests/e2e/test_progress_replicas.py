"""Several progress replicas behind one name stay coherent: what one accepts, every
other one reads and streams (shared Redis hot store + pub/sub fan-out)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import grpc
import pytest

from editai.progress.v1 import progress_pb2
from editai.progress.v1.progress_pb2_grpc import ProgressServiceStub
from tests.conftest import StartService
from tests.progress_support.client import SUCCEEDED, Watch, get_job, report, stub

pytestmark = pytest.mark.e2e


@pytest.fixture
def replicas(
    start_service: StartService, grpc_channel_factory: Callable[[str], grpc.aio.Channel]
) -> tuple[ProgressServiceStub, ProgressServiceStub]:
    a, b = start_service("progress"), start_service("progress")
    return stub(grpc_channel_factory(a.address)), stub(grpc_channel_factory(b.address))


def new_id(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:12]}"


async def test_an_update_on_one_replica_is_read_on_the_other(
    replicas: tuple[ProgressServiceStub, ProgressServiceStub],
) -> None:
    a, b = replicas
    job = new_id("job")

    await report(a, job, 42, step="encoding")

    seen = await get_job(b, job)
    assert (seen.percentage, seen.current_step) == (42, "encoding")


async def test_rules_hold_across_replicas(replicas: tuple[ProgressServiceStub, ProgressServiceStub]) -> None:
    a, b = replicas
    job = new_id("job")
    await report(a, job, 70)

    straggler = await report(b, job, 20)

    assert straggler.percentage == 70


async def test_a_watch_on_one_replica_streams_updates_made_on_the_other(
    replicas: tuple[ProgressServiceStub, ProgressServiceStub],
) -> None:
    a, b = replicas
    job = new_id("job")
    await report(a, job, 5)
    watch = Watch(b, progress_pb2.WatchProgressRequest(job_id=job))
    await watch.wait_for(5)

    for percentage in (25, 50, 75):
        await report(a, job, percentage)
    await report(a, job, 100, status=SUCCEEDED)

    await watch.ended()
    percentages = [p.percentage for p in watch.received]
    assert percentages[0] == 5 and percentages[-1] == 100
    assert percentages == sorted(percentages)  # latest-wins may skip values, never reorder them
    assert [p.sequence for p in watch.received] == sorted({p.sequence for p in watch.received})


async def test_a_project_watch_follows_the_newest_job_started_on_another_replica(
    replicas: tuple[ProgressServiceStub, ProgressServiceStub],
) -> None:
    a, b = replicas
    project, first, second = new_id("project"), new_id("job"), new_id("job")
    await report(a, first, 30, project_id=project)
    watch = Watch(b, progress_pb2.WatchProgressRequest(project_id=project))
    await watch.wait_for(30)

    await report(a, second, 60, project_id=project)
    await watch.wait_for(60)
    await report(a, second, 100, project_id=project, status=SUCCEEDED)

    await watch.ended()
    assert [p.job_id for p in watch.received][-1] == second
    assert watch.received[0].job_id == first
