"""The render worker and an attempt's context with in-memory adapters: what is written on each exit path."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from editai_common.media_store import LocalMediaStore
from services.render.attempt import Attempt
from services.render.jobs import Job, JobOutcome, JobStatus, JobType, LeaseLost, PipelineError, StaleFencingToken
from services.render.pipelines.context import JobContext
from services.render.worker import Worker, WorkerConfig


def _job(job_id: str = "job-1") -> Job:
    now = datetime.now(UTC)
    return Job(id=job_id, profile_id="alice", type=JobType.PROCESS_VIDEO, status=JobStatus.QUEUED, project_id=None,
               clip_id=None, request_id=None, params={}, attempt=0, max_attempts=1, fencing_token=0, percentage=0,
               current_step="", error_reason="", error="", outputs={}, created_at=now, started_at=None,
               finished_at=None, deadline_at=now + timedelta(seconds=60))  # fmt: skip


class FakeJobs:
    """Just enough of the job store: one job, claim once, fenced writes by token."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.owned = True
        self.finished: list[tuple[JobStatus, dict[str, Any], str]] = []
        self.progress: list[float] = []
        self.released = False

    async def claim(self, job_id: str, worker_id: str, *, lease_ttl: float) -> Job | None:
        if self.job.status is not JobStatus.QUEUED:
            return None
        self.job = replace(self.job, status=JobStatus.RUNNING, attempt=1, fencing_token=7)
        return self.job

    async def renew(self, job_id: str, token: int, *, lease_ttl: float) -> bool:
        return self.owned

    def _check(self, token: int) -> None:
        if not self.owned or token != self.job.fencing_token:
            raise StaleFencingToken(self.job.id, token)

    async def save_progress(self, job_id: str, token: int, percentage: float, step: str) -> None:
        self._check(token)
        self.progress.append(percentage)

    async def finish(self, job_id: str, token: int, status: JobStatus, *, outputs: Any = None, reason: str = "",
                     error: str = "") -> Job:  # fmt: skip
        self._check(token)
        self.finished.append((status, outputs or {}, reason))
        return self.job

    async def release(self, job_id: str, token: int) -> None:
        self.released = True


@dataclass
class Delivered:
    job_id: str


class FakeQueue:
    def __init__(self, job_id: str) -> None:
        self.items: asyncio.Queue[Delivered] = asyncio.Queue()
        self.items.put_nowait(Delivered(job_id))
        self.acked: list[str] = []

    async def next_delivery(self, consumer: str, *, block_seconds: float) -> Delivered | None:
        with contextlib.suppress(TimeoutError):
            return await asyncio.wait_for(self.items.get(), block_seconds)
        return None

    async def done(self, delivery: Delivered) -> None:
        self.acked.append(delivery.job_id)

    async def remove_consumer(self, consumer: str) -> None:
        pass


class FakeProgress:
    def __init__(self) -> None:
        self.statuses: list[JobStatus] = []

    async def report(self, **fields: Any) -> None:
        self.statuses.append(fields["status"])


@dataclass
class World:
    worker: Worker
    jobs: FakeJobs
    queue: FakeQueue
    progress: FakeProgress
    work_dir: Path
    started: asyncio.Event


@pytest.fixture
async def world(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[World]:
    pipeline = request.param
    started = asyncio.Event()

    async def wrapped(ctx: JobContext) -> JobOutcome:
        (ctx.workdir / "scratch.tmp").write_bytes(b"x")
        started.set()
        return await pipeline(ctx)

    jobs, queue, progress = FakeJobs(_job()), FakeQueue("job-1"), FakeProgress()
    config = WorkerConfig(worker_id="w", slots=1, lease_ttl=0.3, renew_interval=0.05, work_dir=tmp_path / "work",
                          poll_seconds=0.05)  # fmt: skip
    worker = Worker(config, jobs, queue, progress, library=None, media=LocalMediaStore(tmp_path / "media"),  # type: ignore[arg-type]
                    speech=None, pipelines={JobType.PROCESS_VIDEO: wrapped})  # type: ignore[arg-type]  # fmt: skip
    task = asyncio.create_task(worker.run())
    yield World(worker, jobs, queue, progress, tmp_path / "work", started)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _settled(world: World) -> None:
    await asyncio.wait_for(world.started.wait(), 5)
    for _ in range(200):
        if not world.worker.running:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("attempt never ended")


async def _succeeds(ctx: JobContext) -> JobOutcome:
    await ctx.report(50, "half")
    return JobOutcome(output_keys=("out.mp4",))


async def _hangs(ctx: JobContext) -> JobOutcome:
    await ctx.report(10, "working")
    await asyncio.Event().wait()
    raise AssertionError


async def _fails(ctx: JobContext) -> JobOutcome:
    raise PipelineError("no segments", reason="NO_SEGMENTS")


@pytest.mark.parametrize("world", [_succeeds], indirect=True)
async def test_success_is_written_with_its_outputs_and_the_scratch_dir_goes(world: World) -> None:
    await _settled(world)
    assert world.jobs.finished == [(JobStatus.SUCCEEDED, {"keys": ["out.mp4"], "duration_seconds": 0.0}, "")]
    assert world.progress.statuses[-1] is JobStatus.SUCCEEDED
    assert world.queue.acked == ["job-1"]
    assert list(world.work_dir.iterdir()) == []


@pytest.mark.parametrize("world", [_fails], indirect=True)
async def test_a_failing_pipeline_ends_failed_with_its_reason(world: World) -> None:
    await _settled(world)
    assert [(s, r) for s, _, r in world.jobs.finished] == [(JobStatus.FAILED, "NO_SEGMENTS")]
    assert list(world.work_dir.iterdir()) == []


@pytest.mark.parametrize("world", [_hangs], indirect=True)
async def test_cancel_stops_the_pipeline_writes_nothing_and_cleans_up(world: World) -> None:
    """Guarantee 6: the cancel announcement cancels the attempt's task; the RPC already wrote `cancelled`."""
    await asyncio.wait_for(world.started.wait(), 5)
    await world.worker.cancel_local("job-1")
    await _settled(world)
    assert world.jobs.finished == [] and not world.jobs.released
    assert list(world.work_dir.iterdir()) == []


@pytest.mark.parametrize("world", [_hangs], indirect=True)
async def test_a_lost_lease_stops_the_pipeline_and_nothing_is_written(world: World) -> None:
    """Guarantee 3: when renewal fails the attempt stops itself and never writes a result."""
    await asyncio.wait_for(world.started.wait(), 5)
    world.jobs.owned = False
    await _settled(world)
    assert world.jobs.finished == []
    assert list(world.work_dir.iterdir()) == []


async def test_attempt_progress_is_monotonic_fenced_and_mapped_into_stages(tmp_path: Path) -> None:
    jobs, progress = FakeJobs(_job()), FakeProgress()
    job = await jobs.claim("job-1", "w", lease_ttl=1)
    assert job is not None
    attempt = Attempt(job, media=LocalMediaStore(tmp_path), workdir=tmp_path, library_store=None,  # type: ignore[arg-type]
                      speech=None, jobs=jobs, progress=progress)  # type: ignore[arg-type]  # fmt: skip
    await attempt.report(40, "a")
    await attempt.report(20, "b")  # never backwards
    assert jobs.progress == [40, 40]
    await attempt.stage(50, 90, "encode")(0.5)
    assert jobs.progress[-1] == pytest.approx(70)
    await attempt.report(80, "encode")  # same step within the interval: throttled
    assert jobs.progress[-1] == pytest.approx(70) and attempt.percentage == 80
    assert attempt.estimate_remaining(50) is not None and 0 < attempt.time_remaining() <= 60
    attempt.lose("lease lost")
    with pytest.raises(LeaseLost):
        await attempt.report(90, "late")
