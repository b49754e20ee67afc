"""Guarantee 6 (cancel is real) for every job type, and cancels that find nothing to stop."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc
import pytest

from editai.render.v1 import render_pb2
from services.render.jobs import attempt_output_prefixes
from tests.render_support.client import Render, put_video
from tests.render_support.fixtures import *  # noqa: F403 - fixtures
from tests.render_support.seed import insert_clip
from tests.render_support.state import ffmpeg_children, scratch_files
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.e2e

LONG_TEXT = " ".join(["Every clip tells a story, and this voiceover keeps talking for quite a while."] * 12)
CANCELLED = render_pb2.JOB_STATUS_CANCELLED


@pytest.fixture
def render_process(
    start_render: Callable[..., ServiceProcess], start_service: Callable[..., ServiceProcess]
) -> ServiceProcess:
    tts = start_service("tts")
    return start_render(EDITAI_TTS_ADDR=tts.address)


@pytest.fixture
def render(render_process: ServiceProcess, grpc_channel_factory: Callable[[str], grpc.aio.Channel]) -> Render:
    return Render(grpc_channel_factory(render_process.address), f"cancel-{uuid.uuid4().hex[:8]}", timeout=30)


async def _raw_clips(render: Render, data_dir: Path, database_url: str) -> tuple[render_pb2.Job, str]:
    key = await put_video(data_dir, "uploads/long.mp4", seconds=30)
    project = await render.new_project(target_duration=30)
    return (await render.GenerateRawClips(project_id=project.id, video_key=key, variant_count=3)).job, project.id


async def _from_segments(render: Render, data_dir: Path, database_url: str) -> tuple[render_pb2.Job, str]:
    key = await put_video(data_dir, "uploads/long.mp4", seconds=30)
    video = (await render.CreateSourceVideo(media_key=key)).source_video
    segment = (await render.CreateSegment(source_video_id=video.id, start_time=0, end_time=30)).segment
    project = await render.new_project(target_duration=30)
    await render.SetProjectSegments(project_id=project.id, segment_ids=[segment.id])
    job = (await render.GenerateFromSegments(project_id=project.id, variant_count=3, target_duration=30)).job
    return job, project.id


async def _final_clip(render: Render, data_dir: Path, database_url: str) -> tuple[render_pb2.Job, str]:
    key = await put_video(data_dir, "uploads/raw.mp4", seconds=30)
    project = await render.new_project(target_duration=30)
    clip_id = insert_clip(database_url, render.profile, project.id, key, 30.0)
    await render.UpdateClipContent(clip_id=clip_id, tts_text=LONG_TEXT)
    return (await render.RenderFinalClip(clip_id=clip_id, preset_name="tiktok")).job, project.id


async def _process_video(render: Render, data_dir: Path, database_url: str) -> tuple[render_pb2.Job, str]:
    key = await put_video(data_dir, "uploads/long.mp4", seconds=30)
    return (await render.ProcessVideo(video_key=key, target_duration=30, variant_count=3)).job, ""


async def _ffmpeg_started(render: Render, process: ServiceProcess, job_id: str) -> None:
    deadline = time.monotonic() + 90
    while not ffmpeg_children(process.pid):
        job = await render.job(job_id)
        assert job.status in (render_pb2.JOB_STATUS_QUEUED, render_pb2.JOB_STATUS_RUNNING), job.error
        assert time.monotonic() < deadline, "ffmpeg never started"
        await asyncio.sleep(0.02)


@pytest.mark.slow
@pytest.mark.parametrize("start", [_raw_clips, _from_segments, _final_clip, _process_video],
                         ids=["raw_clips", "from_segments", "final_clip", "process_video"])  # fmt: skip
async def test_cancel_mid_ffmpeg_stops_it_within_2s_and_frees_everything(
    start: Callable[..., Awaitable[tuple[render_pb2.Job, str]]],
    render: Render,
    render_process: ServiceProcess,
    data_dir: Path,
    database_url: str,
) -> None:
    """Guarantee 6 (cancel is real): cancelling while ffmpeg runs kills it within 2 s, deletes the job's
    temporary files, ends the job `cancelled` and frees the project for the next job."""
    job, project_id = await start(render, data_dir, database_url)
    await _ffmpeg_started(render, render_process, job.id)
    token = (await render.job(job.id)).fencing_token

    asked = time.monotonic()
    if project_id:
        assert list((await render.CancelProject(project_id=project_id)).cancelled_job_ids) == [job.id]
    else:
        await render.CancelJob(job_id=job.id)
    while ffmpeg_children(render_process.pid):
        assert time.monotonic() - asked < 2.0, "ffmpeg still running 2 s after the cancel"
        await asyncio.sleep(0.01)

    assert (await render.job(job.id)).status == CANCELLED
    outputs = [data_dir / "media" / p for p in attempt_output_prefixes(job.id, project_id or None, token)]
    while scratch_files(data_dir) or any(p.exists() for p in outputs):
        assert time.monotonic() - asked < 2.0, f"left behind: {scratch_files(data_dir)} {outputs}"
        await asyncio.sleep(0.01)
    if project_id:
        key = await put_video(data_dir, "uploads/next.mp4", seconds=1)
        project = (await render.GetProject(project_id=project_id)).project
        assert project.active_job_id == ""
        following = (await render.GenerateRawClips(project_id=project_id, video_key=key, variant_count=1)).job
        done = await render.wait_job(following.id, within=120)
        assert done.status == render_pb2.JOB_STATUS_SUCCEEDED, done.error


async def test_cancel_while_speech_is_synthesized(render: Render) -> None:
    """Guarantee 6 for SynthesizeSpeech (its ffmpeg runs in the TTS service): the job ends cancelled."""
    job = (await render.SynthesizeSpeech(text=LONG_TEXT, provider="local")).job
    await render.wait_job(job.id, lambda j: j.status != render_pb2.JOB_STATUS_QUEUED)
    cancelled = (await render.CancelJob(job_id=job.id)).job
    assert cancelled.status in (CANCELLED, render_pb2.JOB_STATUS_SUCCEEDED)  # it may win the race
    assert (await render.job(job.id)).status == cancelled.status


async def test_cancel_with_nothing_running_is_a_no_op_and_does_not_poison_the_next_job(
    render: Render, data_dir: Path
) -> None:
    """Guarantee 6: a cancel that finds no active job changes nothing; the next job runs to the end."""
    project = await render.new_project(target_duration=1)
    assert list((await render.CancelProject(project_id=project.id)).cancelled_job_ids) == []
    assert (await render.GetProject(project_id=project.id)).project.status == render_pb2.PROJECT_STATUS_DRAFT
    key = await put_video(data_dir, "uploads/short.mp4", seconds=1)
    job = (await render.GenerateRawClips(project_id=project.id, video_key=key, variant_count=1)).job
    assert list((await render.CancelProject(project_id=project.id)).cancelled_job_ids) == [job.id]
    again = (await render.GenerateRawClips(project_id=project.id, video_key=key, variant_count=1)).job
    done = await render.wait_job(again.id, within=120)
    assert done.status == render_pb2.JOB_STATUS_SUCCEEDED, done.error
    assert (await render.CancelJob(job_id=again.id)).job.status == render_pb2.JOB_STATUS_SUCCEEDED
    assert list((await render.CancelProject(project_id=project.id)).cancelled_job_ids) == []
