"""Guarantees 2, 3 and 5 when a worker process is SIGKILLed mid-job."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import grpc
import pytest

from editai.progress.v1 import progress_pb2, progress_pb2_grpc
from editai.render.v1 import render_pb2
from editai_common.errors import details_from_rpc_error
from editai_common.postgres import open_pool
from services.render.adapters.postgres_jobs import PostgresJobStore
from services.render.adapters.postgres_library import PostgresLibrary
from services.render.jobs import JobStatus, StaleFencingToken
from services.render.records import NewClip
from tests.render_support.client import Render, put_video
from tests.render_support.fixtures import *  # noqa: F403 - fixtures
from tests.render_support.fixtures import TEST_LEASE_TTL
from tests.render_support.state import ffmpeg_children, scratch_files
from tests.support.processes import ServiceProcess

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# Lease TTL + one reaper interval + slack for a loaded 2-core machine.
RECOVERY_BUDGET = float(TEST_LEASE_TTL) * 2 + 3


@pytest.fixture
async def stores(database_url: str) -> AsyncIterator[tuple[PostgresJobStore, PostgresLibrary]]:
    pool = await open_pool(database_url, min_size=1, max_size=2, name="test")
    yield PostgresJobStore(pool, job_timeout_seconds=60, max_attempts=1), PostgresLibrary(pool)
    await pool.close()


async def _running(render: Render, job_id: str) -> render_pb2.Job:
    return await render.wait_job(job_id, lambda j: j.status == render_pb2.JOB_STATUS_RUNNING and j.percentage > 2)


async def _accepted_after(render: Render, project_id: str, key: str) -> tuple[float, render_pb2.Job]:
    started = time.monotonic()
    while True:
        try:
            job = (await render.GenerateRawClips(project_id=project_id, video_key=key, variant_count=1)).job
            return time.monotonic() - started, job
        except grpc.aio.AioRpcError as error:
            assert details_from_rpc_error(error).reason == "PROJECT_LOCKED"
        assert time.monotonic() - started < RECOVERY_BUDGET * 2, "project never became free"
        await asyncio.sleep(0.1)


async def test_killed_worker_frees_project_fails_job_and_its_token_is_refused(
    start_render: Callable[..., ServiceProcess],
    grpc_channel_factory: Callable[[str], grpc.aio.Channel],
    data_dir: Path,
    stores: tuple[PostgresJobStore, PostgresLibrary],
) -> None:
    """Guarantees 2 (locks never leak), 5 (no job vanishes), 3 (fencing) and 9 (clean up): SIGKILL the
    worker running a job; within the lease TTL + detection the project takes a new job, the old job is
    failed WORKER_LOST, writes carrying the killed attempt's fencing token are refused, and its scratch
    files are gone."""
    api = start_render(EDITAI_RENDER_WORKERS="0", EDITAI_RENDER_MAX_ATTEMPTS="1")
    worker = start_render("render.worker", EDITAI_RENDER_MAX_ATTEMPTS="1")
    render = Render(grpc_channel_factory(api.address), f"crash-{uuid.uuid4().hex[:8]}")
    key = await put_video(data_dir, "uploads/long.mp4", seconds=30)
    project = await render.new_project("crash", target_duration=30)
    first = (await render.GenerateRawClips(project_id=project.id, video_key=key, variant_count=2)).job
    running = await _running(render, first.id)

    worker.kill()
    waited, second = await _accepted_after(render, project.id, key)

    assert waited <= RECOVERY_BUDGET
    lost = await render.job(first.id)
    assert (lost.status, lost.error_reason) == (render_pb2.JOB_STATUS_FAILED, "WORKER_LOST")
    assert second.id != first.id
    jobs, library = stores
    stale = running.fencing_token
    with pytest.raises(StaleFencingToken):
        await jobs.save_progress(first.id, stale, 99.0, "late")
    with pytest.raises(StaleFencingToken):
        await jobs.finish(first.id, stale, JobStatus.SUCCEEDED, outputs={"keys": ["late.mp4"]})
    with pytest.raises(StaleFencingToken):
        clip = NewClip(variant_index=1, raw_video_key="late.mp4", duration_seconds=1)
        await library.add_clips(render.profile, project.id, [clip], replace=True, job_id=first.id, token=stale)
    assert (await render.job(first.id)).status == render_pb2.JOB_STATUS_FAILED
    assert (await render.ListClips(project_id=project.id)).clips == []
    # Guarantee 9: the reaper removed the dead attempt's scratch dir, partial media files included
    # (its orphaned ffmpeg may still be writing to an unlinked one).
    settled = time.monotonic()
    while scratch_files(data_dir):
        assert time.monotonic() - settled < 3, f"left behind: {scratch_files(data_dir)}"
        await asyncio.sleep(0.05)
    await render.CancelProject(project_id=project.id)


async def test_killed_worker_job_is_retried_elsewhere_with_a_higher_token(
    start_render: Callable[..., ServiceProcess],
    grpc_channel_factory: Callable[[str], grpc.aio.Channel],
    progress_service: ServiceProcess,
    data_dir: Path,
    stores: tuple[PostgresJobStore, PostgresLibrary],
) -> None:
    """Guarantees 5 (no job vanishes: an idempotent job is retried) and 3 (fencing: the killed attempt's
    token is refused by the job store and by the progress service while the new attempt runs)."""
    doomed = start_render("render.worker", EDITAI_RENDER_MAX_ATTEMPTS="2")
    render = Render(grpc_channel_factory(doomed.address), f"retry-{uuid.uuid4().hex[:8]}")
    api = start_render(EDITAI_RENDER_WORKERS="0", EDITAI_RENDER_MAX_ATTEMPTS="2")
    render = Render(grpc_channel_factory(api.address), render.profile)
    key = await put_video(data_dir, "uploads/retry.mp4", seconds=30)
    project = await render.new_project("retry", target_duration=30)
    job = (await render.GenerateRawClips(project_id=project.id, video_key=key, variant_count=2)).job
    first = await _running(render, job.id)

    doomed.kill()
    survivor = start_render("render.worker", EDITAI_RENDER_MAX_ATTEMPTS="2")
    second = await render.wait_job(job.id, lambda j: j.attempt == 2 and j.status == render_pb2.JOB_STATUS_RUNNING,
                                   within=RECOVERY_BUDGET * 3)  # fmt: skip

    assert second.fencing_token > first.fencing_token
    jobs, _ = stores
    with pytest.raises(StaleFencingToken):
        await jobs.save_progress(job.id, first.fencing_token, 99.0, "late")
    progress = progress_pb2_grpc.ProgressServiceStub(grpc_channel_factory(progress_service.address))
    for _ in range(200):  # the new attempt's first report is on its way
        seen = await progress.GetProgress(progress_pb2.GetProgressRequest(job_id=job.id), timeout=5)
        if seen.progress.fencing_token >= second.fencing_token:
            break
        await asyncio.sleep(0.05)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await progress.UpdateProgress(
            progress_pb2.UpdateProgressRequest(job_id=job.id, project_id=project.id, profile_id=render.profile,
                                               percentage=99, current_step="late", fencing_token=first.fencing_token,
                                               status=progress_pb2.JOB_STATUS_RUNNING), timeout=5)  # fmt: skip
    assert details_from_rpc_error(refused.value).reason == "STALE_FENCING_TOKEN"
    await render.CancelJob(job_id=job.id)
    assert survivor.is_running()


async def test_a_job_past_its_deadline_fails_and_frees_its_project(
    start_render: Callable[..., ServiceProcess],
    grpc_channel_factory: Callable[[str], grpc.aio.Channel],
    data_dir: Path,
) -> None:
    """Guarantee 5 (nothing stays processing forever): a job still running at its deadline
    (EDITAI_RENDER_JOB_TIMEOUT_SECONDS) is stopped and fails JOB_TIMEOUT; the project is free again."""
    service = start_render(EDITAI_RENDER_JOB_TIMEOUT_SECONDS="3")
    render = Render(grpc_channel_factory(service.address), f"deadline-{uuid.uuid4().hex[:8]}")
    key = await put_video(data_dir, "uploads/long.mp4", seconds=30)
    project = await render.new_project("slow", target_duration=30)
    job = (await render.GenerateRawClips(project_id=project.id, video_key=key, variant_count=3)).job

    done = await render.wait_job(job.id, within=20)

    assert done.status == render_pb2.JOB_STATUS_FAILED
    assert done.error_reason in {"JOB_TIMEOUT", "FFMPEG_TIMEOUT"}, done.error_reason
    assert (await render.GetProject(project_id=project.id)).project.active_job_id == ""


async def test_a_restarted_render_process_recovers_the_job_it_was_running(
    start_render: Callable[..., ServiceProcess],
    grpc_channel_factory: Callable[[str], grpc.aio.Channel],
    data_dir: Path,
) -> None:
    """Guarantees 2 and 5 at start-up: the only render process is SIGKILLed mid-job and started again;
    the new process finds the leftover attempt once its lease expires and fails it WORKER_LOST (a
    non-retried type here), freeing the project."""
    service = start_render(EDITAI_RENDER_MAX_ATTEMPTS="1")
    render = Render(grpc_channel_factory(service.address), f"restart-{uuid.uuid4().hex[:8]}")
    key = await put_video(data_dir, "uploads/long.mp4", seconds=30)
    project = await render.new_project("restart", target_duration=30)
    job = (await render.GenerateRawClips(project_id=project.id, video_key=key, variant_count=2)).job
    await _running(render, job.id)

    service.restart()  # SIGKILL, then the same command on the same port
    done = await render.wait_job(job.id, within=RECOVERY_BUDGET * 2)

    assert (done.status, done.error_reason) == (render_pb2.JOB_STATUS_FAILED, "WORKER_LOST")
    assert (await render.GetProject(project_id=project.id)).project.active_job_id == ""


async def test_a_paused_worker_loses_its_job_and_cannot_overwrite_the_replacement(
    start_render: Callable[..., ServiceProcess],
    grpc_channel_factory: Callable[[str], grpc.aio.Channel],
    data_dir: Path,
) -> None:
    """Guarantee 3 (fencing) with a real pause: worker A is SIGSTOPped mid-job past its lease; the job is
    retried on worker B with a larger token; when A wakes up it finds its lease gone, kills its ffmpeg
    and writes nothing: the job ends with B's attempt and B's clips only."""
    api = start_render(EDITAI_RENDER_WORKERS="0", EDITAI_RENDER_MAX_ATTEMPTS="2")
    paused = start_render("render.worker", EDITAI_RENDER_MAX_ATTEMPTS="2")
    render = Render(grpc_channel_factory(api.address), f"pause-{uuid.uuid4().hex[:8]}")
    key = await put_video(data_dir, "uploads/pause.mp4", seconds=12)
    project = await render.new_project("pause", target_duration=12)
    job = (await render.GenerateRawClips(project_id=project.id, video_key=key, variant_count=1)).job
    first = await _running(render, job.id)

    os.kill(paused.pid, signal.SIGSTOP)
    try:
        start_render("render.worker", EDITAI_RENDER_MAX_ATTEMPTS="2")
        second = await render.wait_job(job.id, lambda j: j.attempt == 2, within=RECOVERY_BUDGET * 3)
    finally:
        os.kill(paused.pid, signal.SIGCONT)
    woke = time.monotonic()
    while ffmpeg_children(paused.pid):
        assert time.monotonic() - woke < 5, "the paused worker kept running its ffmpeg after waking up"
        await asyncio.sleep(0.05)

    done = await render.wait_job(job.id, within=180)
    assert done.status == render_pb2.JOB_STATUS_SUCCEEDED, done.error
    assert done.fencing_token == second.fencing_token > first.fencing_token
    clips = (await render.ListClips(project_id=project.id)).clips
    assert clips and all(f"-{second.fencing_token}/" in c.raw_video_key for c in clips)
    assert not (data_dir / "media" / "projects" / project.id / "clips" / f"{job.id}-{first.fencing_token}").exists()
    assert paused.is_running()
