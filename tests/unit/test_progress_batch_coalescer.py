"""The client-side coalescer: latest value per job, sent in bounded batches, nothing lost on a failed call."""

from __future__ import annotations

import grpc
import pytest

from editai.progress.v1 import progress_pb2
from services.progress.coalescer import ProgressCoalescer


def update(job_id: str, percentage: float) -> progress_pb2.UpdateProgressRequest:
    return progress_pb2.UpdateProgressRequest(
        job_id=job_id, percentage=percentage, status=progress_pb2.JOB_STATUS_RUNNING, fencing_token=1
    )


class RecordingService:
    """Answers every item with its own value; fails the next call when told to."""

    def __init__(self) -> None:
        self.calls: list[list[progress_pb2.UpdateProgressRequest]] = []
        self.fail_next = False

    async def __call__(
        self, request: progress_pb2.BatchUpdateProgressRequest
    ) -> progress_pb2.BatchUpdateProgressResponse:
        if self.fail_next:
            self.fail_next = False
            raise grpc.aio.AioRpcError(
                grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(), grpc.aio.Metadata(), "unreachable", None
            )
        self.calls.append(list(request.updates))
        return progress_pb2.BatchUpdateProgressResponse(
            results=[
                progress_pb2.BatchUpdateResult(progress=progress_pb2.Progress(job_id=u.job_id, percentage=u.percentage))
                for u in request.updates
            ]
        )


async def test_only_the_latest_value_of_each_job_is_sent() -> None:
    service = RecordingService()
    coalescer = ProgressCoalescer(service)
    for pct in (1.0, 2.0, 3.0):
        coalescer.report(update("a", pct))
    coalescer.report(update("b", 9.0))
    outcomes = await coalescer.flush()
    assert [(u.job_id, u.percentage) for u in service.calls[0]] == [("a", 3.0), ("b", 9.0)]
    assert [r.progress.percentage for _, r in outcomes] == [3.0, 9.0]
    assert coalescer.pending == 0


async def test_batches_are_bounded() -> None:
    service = RecordingService()
    coalescer = ProgressCoalescer(service, max_batch=1000)
    for n in range(2500):
        coalescer.report(update(f"job-{n}", 1.0))
    assert len(await coalescer.flush()) == 2500
    assert [len(call) for call in service.calls] == [1000, 1000, 500]


async def test_a_failed_call_keeps_its_items_unless_a_newer_value_arrived() -> None:
    service = RecordingService()
    coalescer = ProgressCoalescer(service)
    coalescer.report(update("a", 10.0))
    coalescer.report(update("b", 10.0))
    service.fail_next = True
    with pytest.raises(grpc.aio.AioRpcError):
        await coalescer.flush()
    coalescer.report(update("b", 20.0))  # reported after the failed call's items were taken
    await coalescer.flush()
    assert sorted((u.job_id, u.percentage) for u in service.calls[0]) == [("a", 10.0), ("b", 20.0)]
