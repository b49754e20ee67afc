"""Progress reporting from render jobs against the real progress service, and without it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import grpc
import pytest

from services.render.adapters.progress_client import GrpcProgressReporter
from services.render.jobs import JobStatus, StaleFencingToken
from tests.support.processes import ServiceProcess


async def _report(reporter: GrpcProgressReporter, job_id: str, token: int, pct: float) -> None:
    await reporter.report(job_id=job_id, project_id=None, profile_id="alice", status=JobStatus.RUNNING,
                          percentage=pct, step="encoding", fencing_token=token, eta_seconds=3.0)  # fmt: skip


async def test_a_missing_progress_service_never_fails_a_job() -> None:
    """Progress is a view: when nothing listens, a report is dropped at once (logged), not raised."""
    channel = grpc.aio.insecure_channel("127.0.0.1:9")
    try:
        started = time.monotonic()
        await _report(GrpcProgressReporter(channel), "job", 1, 10)
        assert time.monotonic() - started < 2.5
    finally:
        await channel.close(None)


async def test_a_stale_token_is_lease_lost(start_service: Callable[..., ServiceProcess]) -> None:
    """Guarantee 3 via the progress service: a report under an older token raises StaleFencingToken."""
    progress = start_service("progress")
    channel = grpc.aio.insecure_channel(progress.address)
    try:
        reporter = GrpcProgressReporter(channel)
        job_id = str(uuid.uuid4())
        await _report(reporter, job_id, 5, 10)
        await _report(reporter, job_id, 6, 20)
        with pytest.raises(StaleFencingToken):
            await _report(reporter, job_id, 5, 30)
    finally:
        await channel.close(None)
