"""The progress service as a real process: the contract seen through gRPC."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import grpc
import pytest

from editai.progress.v1 import progress_pb2
from editai_common.errors import details_from_rpc_error
from tests.conftest import StartService
from tests.progress_support.client import FAILED, RUNNING, SUCCEEDED, Watch, get_job, get_project, report, stub
from tests.progress_support.database import stored_row

pytestmark = pytest.mark.e2e

ChannelFactory = Callable[[str], grpc.aio.Channel]


async def test_update_get_by_job_and_project_and_watch_until_terminal(
    start_service: StartService, grpc_channel_factory: ChannelFactory
) -> None:
    service = stub(grpc_channel_factory(start_service("progress").address))
    await report(service, "job-a", 10, project_id="project-a", step="cutting")
    assert (await get_job(service, "job-a")).current_step == "cutting"
    watch = Watch(service, progress_pb2.WatchProgressRequest(project_id="project-a"))
    await watch.wait_for(10)
    await report(service, "job-a", 60, project_id="project-a")
    await report(service, "job-a", 100, project_id="project-a", status=SUCCEEDED)
    await watch.ended()
    assert [p.percentage for p in watch.received] == [10, 60, 100]
    assert [p.sequence for p in watch.received] == [1, 2, 3]
    latest = await get_project(service, "project-a")
    assert (latest.job_id, latest.status) == ("job-a", SUCCEEDED)


async def test_malformed_requests_are_invalid_argument_naming_each_field(
    start_service: StartService, grpc_channel_factory: ChannelFactory
) -> None:
    service = stub(grpc_channel_factory(start_service("progress").address))
    bad_update = progress_pb2.UpdateProgressRequest(
        job_id="", percentage=float("nan"), status=progress_pb2.JOB_STATUS_UNSPECIFIED, current_step="s" * 10_000
    )
    bad_update.estimated_remaining_seconds = -3
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await service.UpdateProgress(bad_update, timeout=5)
    details = details_from_rpc_error(refused.value)
    assert details.code is grpc.StatusCode.INVALID_ARGUMENT
    assert {v.field for v in details.violations} == {
        "job_id",
        "percentage",
        "status",
        "current_step",
        "estimated_remaining_seconds",
    }
    for request in (
        progress_pb2.UpdateProgressRequest(job_id="j", percentage=101, status=RUNNING),
        progress_pb2.UpdateProgressRequest(job_id="j", percentage=5, status=99),  # type: ignore[arg-type]
    ):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await service.UpdateProgress(request, timeout=5)
        assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    for get in (progress_pb2.GetProgressRequest(), progress_pb2.GetProgressRequest(job_id="")):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await service.GetProgress(get, timeout=5)
        assert details_from_rpc_error(refused.value).violations
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await get_job(service, "never-reported")
    assert refused.value.code() is grpc.StatusCode.NOT_FOUND


async def test_percentage_never_goes_back_and_stale_fencing_tokens_are_refused(
    start_service: StartService, grpc_channel_factory: ChannelFactory
) -> None:
    """DESIGN §5.3 fencing and §5.4 monotonicity."""
    service = stub(grpc_channel_factory(start_service("progress").address))
    await report(service, "job-m", 40, fencing_token=1)
    stored = await report(service, "job-m", 25, fencing_token=1)  # a straggler: answered with what is stored
    assert (stored.percentage, stored.sequence) == (40, 1)
    restarted = await report(service, "job-m", 5, fencing_token=2)  # the job's new attempt
    assert (restarted.percentage, restarted.fencing_token) == (5, 2)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await report(service, "job-m", 90, fencing_token=1)  # the replaced worker wakes up
    details = details_from_rpc_error(refused.value)
    assert (details.code, details.reason) == (grpc.StatusCode.ABORTED, "STALE_FENCING_TOKEN")
    assert (await get_job(service, "job-m")).percentage == 5

    await report(service, "job-m", 50, fencing_token=2, status=FAILED, error="ffmpeg exited 1")
    again = await report(service, "job-m", 50, fencing_token=2, status=FAILED, error="ffmpeg exited 1")
    assert again.sequence == 3  # an identical repeat is idempotent
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await report(service, "job-m", 60, fencing_token=2)
    details = details_from_rpc_error(refused.value)
    assert (details.code, details.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "JOB_FINISHED")


async def test_callers_naming_a_profile_see_only_their_own_progress(
    start_service: StartService, grpc_channel_factory: ChannelFactory
) -> None:
    """DESIGN §5.10 owners only."""
    service = stub(grpc_channel_factory(start_service("progress").address))
    await report(service, "job-p", 20, profile_id="alice")
    assert (await get_job(service, "job-p", metadata=[("x-profile-id", "alice")])).percentage == 20
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await get_job(service, "job-p", metadata=[("x-profile-id", "mallory")])
    assert refused.value.code() is grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await service.ClearProgress(
            progress_pb2.ClearProgressRequest(job_id="job-p"), metadata=[("x-profile-id", "mallory")], timeout=5
        )
    assert refused.value.code() is grpc.StatusCode.NOT_FOUND
    cleared = await service.ClearProgress(
        progress_pb2.ClearProgressRequest(job_id="job-p"), metadata=[("x-profile-id", "alice")], timeout=5
    )
    assert cleared.cleared_count == 1
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await get_job(service, "job-p")
    assert refused.value.code() is grpc.StatusCode.NOT_FOUND


async def test_terminal_state_is_in_postgres_when_acknowledged_even_if_killed_right_after(
    start_service: StartService, grpc_channel_factory: ChannelFactory, database_url: str
) -> None:
    """DESIGN §5.4: terminal states are durable before they are acknowledged.

    The flush interval is the longest allowed, so only a synchronous write can win the race
    against the SIGKILL."""
    process = start_service("progress", EDITAI_PROGRESS_FLUSH_INTERVAL_MS="250")
    service = stub(grpc_channel_factory(process.address))
    for job in ("done-1", "done-2", "done-3"):
        await report(service, job, 70)
        await report(service, job, 100, status=SUCCEEDED)
    process.kill()
    for job in ("done-1", "done-2", "done-3"):
        row = stored_row(database_url, job)
        assert row is not None and row["status"] == SUCCEEDED


async def test_graceful_shutdown_flushes_pending_progress(
    start_service: StartService, grpc_channel_factory: ChannelFactory, database_url: str
) -> None:
    process = start_service("progress", EDITAI_PROGRESS_FLUSH_INTERVAL_MS="250")
    service = stub(grpc_channel_factory(process.address))
    await report(service, "job-g", 42)
    assert process.terminate() == 0
    row = stored_row(database_url, "job-g")
    assert row is not None and row["percentage"] == 42


async def test_watch_resumes_after_a_sequence(
    start_service: StartService, grpc_channel_factory: ChannelFactory
) -> None:
    service = stub(grpc_channel_factory(start_service("progress").address))
    for pct in (10, 20, 30):
        await report(service, "job-r", pct)
    watch = Watch(service, progress_pb2.WatchProgressRequest(job_id="job-r", after_sequence=3))
    await asyncio.sleep(0.3)
    assert watch.received == []
    await report(service, "job-r", 100, status=SUCCEEDED)
    await watch.ended()
    assert [p.sequence for p in watch.received] == [4]
