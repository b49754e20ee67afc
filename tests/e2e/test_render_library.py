"""The render library over real gRPC: projects, source videos, segments, clips, ownership, errors."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest

from editai.render.v1 import render_pb2
from tests.render_support.client import Render, put_bytes, put_video
from tests.render_support.fixtures import *  # noqa: F403 - fixtures
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.e2e


@pytest.fixture
async def render(start_render: Callable[..., ServiceProcess], grpc_channel_factory: Callable[[str], object]) -> Render:
    # A profile of its own: the database is shared by the whole run.
    return Render(grpc_channel_factory(start_render().address), f"alice-{uuid.uuid4().hex[:8]}")  # type: ignore[arg-type]


async def test_project_lifecycle(render: Render) -> None:
    project = await render.new_project("My clips", target_duration=20)
    assert project.status == render_pb2.PROJECT_STATUS_DRAFT and project.target_duration == 20
    assert (await render.GetProject(project_id=project.id)).project.name == "My clips"
    listed = await render.ListProjects()
    assert [p.id for p in listed.projects] == [project.id]
    await render.DeleteProject(project_id=project.id)
    assert (await render.error_of("GetProject", project_id=project.id)).code is grpc.StatusCode.NOT_FOUND


async def test_source_video_is_probed_and_segments_are_ordered(render: Render, data_dir: Path) -> None:
    key = await put_video(data_dir, "uploads/a.mp4", seconds=3)
    video = (await render.CreateSourceVideo(media_key=key, name="a")).source_video
    assert (video.width, video.height, video.has_audio) == (320, 240, True)
    assert video.duration_seconds == pytest.approx(3, abs=0.2) and video.size_bytes > 0
    first = (await render.CreateSegment(source_video_id=video.id, start_time=0, end_time=1, keywords=["a"])).segment
    second = (await render.CreateSegment(source_video_id=video.id, start_time=1, end_time=2.5)).segment
    project = await render.new_project()
    ordered = await render.SetProjectSegments(project_id=project.id, segment_ids=[second.id, first.id])
    assert [s.id for s in ordered.segments] == [second.id, first.id]
    assert [s.id for s in (await render.ListSegments(project_id=project.id)).segments] == [second.id, first.id]


async def test_non_media_upload_is_invalid_argument_unsupported_media(render: Render, data_dir: Path) -> None:
    """Bad media → INVALID_ARGUMENT with reason UNSUPPORTED_MEDIA, never INTERNAL."""
    key = put_bytes(data_dir, "uploads/notes.mp4", b"this is not a video\n" * 100)
    error = await render.error_of("CreateSourceVideo", media_key=key)
    assert (error.code, error.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "UNSUPPORTED_MEDIA")
    project = await render.new_project()
    error = await render.error_of("GenerateRawClips", project_id=project.id, video_key=key)
    assert (error.code, error.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "UNSUPPORTED_MEDIA")
    assert (await render.GetProject(project_id=project.id)).project.active_job_id == ""


async def test_validation_names_each_bad_field(render: Render, data_dir: Path) -> None:
    key = await put_video(data_dir, "uploads/b.mp4", seconds=2)
    video = (await render.CreateSourceVideo(media_key=key)).source_video
    error = await render.error_of("CreateSegment", source_video_id=video.id, start_time=2, end_time=1)
    assert error.code is grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in error.violations] == ["end_time"]
    project = await render.new_project()
    error = await render.error_of("GenerateRawClips", project_id=project.id, video_key=key, variant_count=11)
    assert [v.field for v in error.violations] == ["variant_count"]
    error = await render.error_of("SynthesizeSpeech", text="  ", provider="nope")
    assert {v.field for v in error.violations} == {"text", "provider"}


async def test_other_profiles_ids_are_not_found(render: Render, data_dir: Path) -> None:
    """Guarantee 10 (owners only): profile B can neither see nor start jobs on A's project → NOT_FOUND."""
    project = await render.new_project("alice's")
    key = await put_video(data_dir, "uploads/c.mp4", seconds=2)
    bob = render.as_profile("bob")
    assert (await bob.error_of("GetProject", project_id=project.id)).code is grpc.StatusCode.NOT_FOUND
    assert (await bob.error_of("ListClips", project_id=project.id)).code is grpc.StatusCode.NOT_FOUND
    error = await bob.error_of("GenerateRawClips", project_id=project.id, video_key=key)
    assert error.code is grpc.StatusCode.NOT_FOUND
    assert (await bob.error_of("CancelProject", project_id=project.id)).code is grpc.StatusCode.NOT_FOUND
    assert (await bob.ListProjects()).projects == []
    job = (await render.SynthesizeSpeech(text="hello", request_id="r1")).job
    assert (await bob.error_of("GetJob", job_id=job.id)).code is grpc.StatusCode.NOT_FOUND
    assert (await bob.error_of("CancelJob", job_id=job.id)).code is grpc.StatusCode.NOT_FOUND
    assert (await render.GetProject(project_id=project.id)).project.active_job_id == ""


async def test_same_request_id_returns_the_first_job(render: Render) -> None:
    """Idempotency: a repeated request_id of the same profile returns the first job, not a second one."""
    first = (await render.SynthesizeSpeech(text="hello there", request_id="req-1")).job
    again = (await render.SynthesizeSpeech(text="something else", request_id="req-1")).job
    other = (await render.SynthesizeSpeech(text="hello there", request_id="req-2")).job
    assert again.id == first.id and other.id != first.id
    jobs = (await render.ListJobs()).jobs
    assert sorted(j.id for j in jobs) == sorted({first.id, other.id})


async def test_generate_raw_clips_makes_vertical_clips(render: Render, data_dir: Path) -> None:
    key = await put_video(data_dir, "uploads/d.mp4", seconds=2)
    project = await render.new_project(target_duration=1)
    job = (await render.GenerateRawClips(project_id=project.id, video_key=key, variant_count=2)).job
    assert job.status == render_pb2.JOB_STATUS_QUEUED
    done = await render.wait_job(job.id)
    assert done.status == render_pb2.JOB_STATUS_SUCCEEDED, done.error
    assert done.percentage == 100 and len(done.output_keys) == 2 and done.fencing_token > 0
    clips = (await render.ListClips(project_id=project.id)).clips
    assert [c.variant_index for c in clips] == [1, 2]
    assert all((data_dir / "media" / c.raw_video_key).is_file() for c in clips)
    project = (await render.GetProject(project_id=project.id)).project
    assert project.status == render_pb2.PROJECT_STATUS_READY_FOR_TRIAGE and project.clip_count == 2


async def test_synthesize_speech_job_stores_the_audio_key(
    start_render: Callable[..., ServiceProcess],
    start_service: Callable[..., ServiceProcess],
    grpc_channel_factory: Callable[[str], object],
    data_dir: Path,
) -> None:
    tts = start_service("tts")
    render = Render(grpc_channel_factory(start_render(EDITAI_TTS_ADDR=tts.address).address), "speaker")  # type: ignore[arg-type]
    job = (await render.SynthesizeSpeech(text="Hello from the render service.", provider="local")).job
    done = await render.wait_job(job.id)
    assert done.status == render_pb2.JOB_STATUS_SUCCEEDED, done.error
    assert done.duration_seconds > 0 and len(done.output_keys) == 1
    assert (data_dir / "media" / done.output_keys[0]).stat().st_size > 0
    # The job owns its copy: evicting the TTS cache entry must not break the download.
    assert done.output_keys[0].startswith(f"jobs/{job.id}/")
