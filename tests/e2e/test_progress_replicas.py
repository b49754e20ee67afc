"""Two progress replicas stay coherent through the shared hot store and pub/sub."""

from __future__ import annotations

from collections.abc import Callable

import grpc
import pytest

from editai.progress.v1 import progress_pb2
from tests.conftest import StartService
from tests.progress_support.client import SUCCEEDED, Watch, get_job, get_project, report, stub

pytestmark = pytest.mark.e2e

ChannelFactory = Callable[[str], grpc.aio.Channel]


async def test_update_on_a_is_read_and_watched_on_b(
    start_service: StartService, grpc_channel_factory: ChannelFactory
) -> None:
    on_a = stub(grpc_channel_factory(start_service("progress").address))
    on_b = stub(grpc_channel_factory(start_service("progress").address))
    await report(on_a, "job-1", 10, project_id="shared")
    assert (await get_job(on_b, "job-1")).percentage == 10  # read-your-write across replicas
    watch = Watch(on_b, progress_pb2.WatchProgressRequest(project_id="shared"))
    await watch.wait_for(10)
    await report(on_a, "job-1", 55, project_id="shared")
    await watch.wait_for(55)
    # A newer job of the project on A: the project watch on B follows it.
    await report(on_a, "job-2", 1, project_id="shared")
    assert (await get_project(on_b, "shared")).job_id == "job-2"
    await report(on_a, "job-2", 100, project_id="shared", status=SUCCEEDED)
    await watch.ended()
    assert [(p.job_id, p.percentage) for p in watch.received] == [
        ("job-1", 10),
        ("job-1", 55),
        ("job-2", 1),
        ("job-2", 100),
    ]


async def test_fencing_and_monotonicity_hold_across_replicas(
    start_service: StartService, grpc_channel_factory: ChannelFactory
) -> None:
    on_a = stub(grpc_channel_factory(start_service("progress").address))
    on_b = stub(grpc_channel_factory(start_service("progress").address))
    await report(on_a, "job-f", 50, fencing_token=3)
    assert (await report(on_b, "job-f", 20, fencing_token=3)).percentage == 50
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await report(on_b, "job-f", 90, fencing_token=2)
    assert refused.value.code() is grpc.StatusCode.ABORTED
