"""Edges of the progress contract not covered in test_progress_service.py: each
out-of-range value on its own, and clearing a whole project."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import grpc
import pytest

from editai.progress.v1 import progress_pb2
from editai.progress.v1.progress_pb2_grpc import ProgressServiceStub
from editai_common.errors import details_from_rpc_error
from tests.conftest import StartService
from tests.progress_support.client import SUCCEEDED, get_job, report, stub

pytestmark = pytest.mark.e2e


@pytest.fixture
def service(
    start_service: StartService, grpc_channel_factory: Callable[[str], grpc.aio.Channel]
) -> ProgressServiceStub:
    return stub(grpc_channel_factory(start_service("progress").address))


def new_id(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:12]}"


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
        ({"fencing_token": -1}, "fencing_token"),
    ],
)
async def test_each_out_of_range_value_alone_is_invalid_argument_naming_only_that_field(
    service: ProgressServiceStub, fields: dict[str, object], bad_field: str
) -> None:
    values: dict[str, object] = {"job_id": new_id("job"), "percentage": 10, "status": progress_pb2.JOB_STATUS_RUNNING}
    values.update(fields)

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await service.UpdateProgress(progress_pb2.UpdateProgressRequest(**values), timeout=5)  # type: ignore[arg-type]

    details = details_from_rpc_error(refused.value)
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in details.violations] == [bad_field]


async def test_clearing_a_project_forgets_every_job_of_it(service: ProgressServiceStub) -> None:
    project, older, newer = new_id("project"), new_id("job"), new_id("job")
    await report(service, older, 100, status=SUCCEEDED, project_id=project)
    await report(service, newer, 12, project_id=project)

    cleared = await service.ClearProgress(progress_pb2.ClearProgressRequest(project_id=project), timeout=5)

    assert cleared.cleared_count == 2
    for job in (older, newer):
        with pytest.raises(grpc.aio.AioRpcError) as gone:
            await get_job(service, job)
        assert gone.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as no_latest:
        await service.GetProgress(progress_pb2.GetProgressRequest(project_id=project), timeout=5)
    assert no_latest.value.code() == grpc.StatusCode.NOT_FOUND
