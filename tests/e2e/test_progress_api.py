"""The progress service's rules as a caller meets them over gRPC (a real process).

Guarantee DESIGN.md §5.4 "percentage never goes backwards within a job" and §5.3
fencing (a stale attempt cannot overwrite progress) are tested here end to end;
the same rules are unit-tested in tests/unit/test_progress_domain.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import grpc
import pytest

from editai.progress.v1 import progress_pb2
from editai.progress.v1.progress_pb2_grpc import ProgressServiceStub
from editai_common.errors import details_from_rpc_error
from tests.conftest import StartService
from tests.progress_support.client import FAILED, SUCCEEDED, get_job, report, stub

pytestmark = pytest.mark.e2e


@pytest.fixture
def service(
    start_service: StartService, grpc_channel_factory: Callable[[str], grpc.aio.Channel]
) -> ProgressServiceStub:
    process = start_service("progress")
    return stub(grpc_channel_factory(process.address))


def new_job() -> str:
    return f"job-{uuid.uuid4().hex[:12]}"


async def test_a_lower_percentage_is_ignored_and_the_caller_sees_the_stored_value(service: ProgressServiceStub) -> None:
    job = new_job()
    await report(service, job, 40)

    reply = await report(service, job, 25)  # an out-of-order straggler

    assert (reply.percentage, reply.sequence) == (40, 1)
    assert (await get_job(service, job)).percentage == 40


async def test_a_stale_fencing_token_is_aborted_and_a_newer_attempt_may_restart(service: ProgressServiceStub) -> None:
    job = new_job()
    await report(service, job, 60, fencing_token=1)
    restarted = await report(service, job, 5, fencing_token=2)  # the job's worker was replaced

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await report(service, job, 90, fencing_token=1)  # the old worker wakes up

    details = details_from_rpc_error(refused.value)
    assert (details.code, details.reason) == (grpc.StatusCode.ABORTED, "STALE_FENCING_TOKEN")
    assert details.metadata["current_fencing_token"] == "2"
    assert (restarted.percentage, restarted.fencing_token) == (5, 2)
    assert (await get_job(service, job)).percentage == 5


async def test_a_finished_job_refuses_changes_but_accepts_an_identical_retry(service: ProgressServiceStub) -> None:
    job = new_job()
    done = await report(service, job, 100, status=SUCCEEDED)

    repeat = await report(service, job, 100, status=SUCCEEDED)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await report(service, job, 50, status=FAILED, error="late failure", fencing_token=3)

    assert repeat.sequence == done.sequence
    details = details_from_rpc_error(refused.value)
    assert (details.code, details.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "JOB_FINISHED")


async def test_malformed_updates_name_every_bad_field(service: ProgressServiceStub) -> None:
    request = progress_pb2.UpdateProgressRequest(
        job_id="",
        percentage=float("nan"),
        status=42,  # type: ignore[arg-type]  # not a JobStatus
        estimated_remaining_seconds=-1,
        current_step="x" * 10_000,
        fencing_token=-1,
    )

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await service.UpdateProgress(request, timeout=5)

    details = details_from_rpc_error(refused.value)
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert {v.field for v in details.violations} == {
        "job_id", "percentage", "status", "estimated_remaining_seconds", "current_step", "fencing_token",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"percentage": 100.5}, "percentage"),
        ({"percentage": -0.1}, "percentage"),
        ({"percentage": float("inf")}, "percentage"),
        ({"status": progress_pb2.JOB_STATUS_UNSPECIFIED}, "status"),
        ({"job_id": "j" * 200}, "job_id"),
        ({"project_id": " spaced "}, "project_id"),
        ({"error": "e" * 5000}, "error"),
    ],
)
async def test_each_out_of_range_value_is_invalid_argument(
    service: ProgressServiceStub, fields: dict[str, object], bad_field: str
) -> None:
    values: dict[str, object] = {"job_id": new_job(), "percentage": 10, "status": progress_pb2.JOB_STATUS_RUNNING}
    values.update(fields)

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await service.UpdateProgress(progress_pb2.UpdateProgressRequest(**values), timeout=5)  # type: ignore[arg-type]

    details = details_from_rpc_error(refused.value)
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in details.violations] == [bad_field]


async def test_get_without_a_target_and_unknown_jobs_are_client_errors(service: ProgressServiceStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as no_target:
        await service.GetProgress(progress_pb2.GetProgressRequest(), timeout=5)
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await get_job(service, new_job())

    assert details_from_rpc_error(no_target.value).code == grpc.StatusCode.INVALID_ARGUMENT
    assert (unknown.value.code(), details_from_rpc_error(unknown.value).reason) == (
        grpc.StatusCode.NOT_FOUND, "PROGRESS_NOT_FOUND",
    )  # fmt: skip


async def test_a_caller_naming_a_profile_sees_only_that_profiles_progress(service: ProgressServiceStub) -> None:
    job = new_job()
    await report(service, job, 30, profile_id="alice", project_id="p-alice")

    mine = await get_job(service, job, metadata=[("x-profile-id", "alice")])
    with pytest.raises(grpc.aio.AioRpcError) as theirs:
        await get_job(service, job, metadata=[("x-profile-id", "mallory")])
    with pytest.raises(grpc.aio.AioRpcError) as clear:
        await service.ClearProgress(
            progress_pb2.ClearProgressRequest(job_id=job), timeout=5, metadata=[("x-profile-id", "mallory")]
        )

    assert mine.percentage == 30
    assert theirs.value.code() == clear.value.code() == grpc.StatusCode.NOT_FOUND
    assert (await get_job(service, job)).percentage == 30  # still there


async def test_get_by_project_answers_its_newest_job_and_clear_forgets_it(service: ProgressServiceStub) -> None:
    project, older, newer = f"p-{uuid.uuid4().hex[:8]}", new_job(), new_job()
    await report(service, older, 100, status=SUCCEEDED, project_id=project)
    await report(service, newer, 12, project_id=project)

    latest = await service.GetProgress(progress_pb2.GetProgressRequest(project_id=project), timeout=5)
    cleared = await service.ClearProgress(progress_pb2.ClearProgressRequest(project_id=project), timeout=5)

    assert latest.progress.job_id == newer
    assert cleared.cleared_count == 2
    for job in (older, newer):
        with pytest.raises(grpc.aio.AioRpcError) as gone:
            await get_job(service, job)
        assert gone.value.code() == grpc.StatusCode.NOT_FOUND
