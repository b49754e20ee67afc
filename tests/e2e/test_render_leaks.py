"""Guarantees 2 and 9 after many jobs: nothing accumulates in Postgres, Redis, on disk or in memory."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path

import grpc
import psutil
import pytest

from editai.render.v1 import render_pb2
from tests.render_support.client import Render, put_video
from tests.render_support.fixtures import *  # noqa: F403 - fixtures
from tests.render_support.state import active_jobs, leases, redis_state, scratch_files
from tests.support.processes import ServiceProcess

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PROJECTS = 20
JOBS_PER_PROJECT = 10


async def test_200_mixed_jobs_leave_no_locks_leases_files_or_memory_behind(
    start_render: Callable[..., ServiceProcess],
    start_service: Callable[..., ServiceProcess],
    grpc_channel_factory: Callable[[str], grpc.aio.Channel],
    fresh_database_url: str,
    redis_url: str,
    redis_prefix: str,
    data_dir: Path,
) -> None:
    """Guarantees 2 (locks never leak) and 9 (clean up): 200 jobs on 2 replicas — succeeded, failed and
    cancelled, with and without a project — leave zero active jobs and leases in Postgres, nothing in
    Redis but the empty job stream, zero scratch files, and flat process memory."""
    tts = start_service("tts")
    env = {"EDITAI_DATABASE_URL": fresh_database_url, "EDITAI_TTS_ADDR": tts.address, "EDITAI_RENDER_WORKERS": "2"}
    replicas = [start_render(**env), start_render(**env)]
    profile = f"leaks-{uuid.uuid4().hex[:8]}"
    clients = [Render(grpc_channel_factory(r.address), profile, timeout=30) for r in replicas]
    good = await put_video(data_dir, "uploads/tiny.mp4", seconds=0.5, size="160x120")
    doomed = await put_video(data_dir, "uploads/gone.mp4", seconds=1, size="160x120")
    video = (await clients[0].CreateSourceVideo(media_key=doomed)).source_video
    segment = (await clients[0].CreateSegment(source_video_id=video.id, start_time=0, end_time=1)).segment
    (data_dir / "media" / doomed).unlink()  # jobs from this segment fail when they read it
    outcomes: dict[int, int] = {}

    async def one_project(index: int) -> None:
        render = clients[index % 2]
        project = await render.new_project(f"p{index}", target_duration=1)
        await render.SetProjectSegments(project_id=project.id, segment_ids=[segment.id])
        for step in range(JOBS_PER_PROJECT):
            kind = (index + step) % 4
            if kind == 0:  # succeeds
                job = (await render.GenerateRawClips(project_id=project.id, video_key=good, variant_count=1)).job
            elif kind == 1:  # fails: its source file is gone
                job = (await render.GenerateFromSegments(project_id=project.id, variant_count=1)).job
            elif kind == 2:  # cancelled, queued or mid-run
                job = (await render.GenerateRawClips(project_id=project.id, video_key=good, variant_count=1)).job
                await asyncio.sleep(0.05 * (step % 3))
                await clients[(index + 1) % 2].CancelProject(project_id=project.id)
            else:  # no project: speech (cached after the first)
                job = (await render.SynthesizeSpeech(text="Short and sweet.", provider="local")).job
            done = await render.wait_job(job.id, within=180)
            outcomes[done.status] = outcomes.get(done.status, 0) + 1

    def rss() -> int:
        return sum(psutil.Process(r.pid).memory_info().rss for r in replicas)

    await asyncio.gather(*(one_project(i) for i in range(4)))  # warm-up: imports, pools, caches
    warmed = rss()
    await asyncio.gather(*(one_project(i) for i in range(4, PROJECTS)))
    grown = rss() - warmed

    assert sum(outcomes.values()) == PROJECTS * JOBS_PER_PROJECT
    assert {render_pb2.JOB_STATUS_SUCCEEDED, render_pb2.JOB_STATUS_FAILED, render_pb2.JOB_STATUS_CANCELLED} <= set(
        outcomes
    ), outcomes
    assert active_jobs(fresh_database_url) == 0
    assert leases(fresh_database_url) == 0
    await asyncio.sleep(0.5)  # a cancelled attempt removes its directory right after ffmpeg dies
    assert scratch_files(data_dir) == []
    state = redis_state(redis_url, redis_prefix)
    stream = f"{redis_prefix}render:jobs"
    assert set(state) == {stream}, state
    assert state[stream] == {"length": 0, "pending": 0}
    assert grown < 40 * 1024 * 1024, f"RSS of the replicas grew by {grown / 2**20:.1f} MiB over 160 jobs"
