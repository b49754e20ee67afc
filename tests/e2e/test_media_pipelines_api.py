"""Each media pipeline end to end through the gRPC API: real render, progress and tts
processes (local espeak-ng voice), outputs checked with a prober: codec, 1080x1920,
duration within 0.1 s of the voiceover, audio, −14 LUFS ±1 (ebur128), faststart.
Cancel during a render stops ffmpeg and leaves no scratch files (guarantee 6)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from editai.render.v1 import render_pb2
from editai_common.ffmpeg import probe_media
from services.render.media.loudness import measure_loudness
from tests.render_support.client import Render, put_bytes, put_video
from tests.render_support.fixtures import *  # noqa: F403 - fixtures
from tests.render_support.state import ffmpeg_children, scratch_files
from tests.support.media import make_audio, probe_output, top_level_boxes
from tests.support.processes import ServiceProcess

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SUCCEEDED = render_pb2.JOB_STATUS_SUCCEEDED


@pytest.fixture
def render_process(
    start_render: Callable[..., ServiceProcess], start_service: Callable[..., ServiceProcess]
) -> ServiceProcess:
    tts = start_service("tts")
    return start_render(EDITAI_TTS_ADDR=tts.address)


@pytest.fixture
def render(render_process: ServiceProcess, grpc_channel_factory: Callable[[str], object]) -> Render:
    client = Render(grpc_channel_factory(render_process.address), f"media-{uuid.uuid4().hex[:8]}")  # type: ignore[arg-type]
    client.timeout = 30.0
    return client


async def _succeeded(render: Render, job: render_pb2.Job, within: float = 120.0) -> render_pb2.Job:
    done = await render.wait_job(job.id, within=within)
    assert done.status == SUCCEEDED, f"{render_pb2.JobStatus.Name(done.status)}: {done.error_reason} {done.error}"
    assert done.percentage == 100
    return done


async def _assert_deliverable(path: Path, duration: float) -> None:
    probed = probe_output(path)
    assert (probed.video_codec, probed.width, probed.height, probed.pix_fmt) == ("h264", 1080, 1920, "yuv420p")
    assert probed.duration == pytest.approx(duration, abs=0.1)
    assert probed.has_audio
    assert (await measure_loudness(path)).integrated_lufs == pytest.approx(-14.0, abs=1.0)
    boxes = top_level_boxes(path)
    assert boxes.index("moov") < boxes.index("mdat")


async def test_raw_clips_then_a_final_render_with_voiceover_and_subtitles(render: Render, data_dir: Path) -> None:
    media = data_dir / "media"
    project = await render.new_project("clips", target_duration=2)
    key = await put_video(data_dir, "uploads/source.mp4", seconds=5)

    job = (await render.GenerateRawClips(project_id=project.id, video_key=key, variant_count=2)).job
    await _succeeded(render, job)

    clips = (await render.ListClips(project_id=project.id)).clips
    assert sorted(c.variant_index for c in clips) == [1, 2]
    assert all(c.final_status == render_pb2.CLIP_STATUS_PENDING and c.thumbnail_key for c in clips)
    assert len({(media / c.raw_video_key).read_bytes() for c in clips}) == 2
    clip = clips[0]
    await render.UpdateClipContent(
        clip_id=clip.id,
        tts_text="Short clips need captions. This one has them.",
        subtitle_settings=render_pb2.SubtitleStyle(font_size=72, position_y=60, enable_glow=True, glow_blur=3),
    )

    job = (await render.RenderFinalClip(clip_id=clip.id, preset_name="tiktok")).job
    await _succeeded(render, job)

    finished = (await render.GetClip(clip_id=clip.id)).clip
    assert finished.final_status == render_pb2.CLIP_STATUS_COMPLETED
    assert finished.latest_export.preset == "tiktok"
    voiceover = await probe_media(media / finished.content.tts_audio_key)
    await _assert_deliverable(media / finished.final_video_key, voiceover.duration_seconds)
    assert "captions" in (media / finished.srt_key).read_text()
    assert scratch_files(data_dir) == []


async def test_final_render_with_an_unknown_preset_is_refused(render: Render, data_dir: Path) -> None:
    project = await render.new_project("p", target_duration=1)
    key = await put_video(data_dir, "uploads/s.mp4", seconds=2)
    await _succeeded(render, (await render.GenerateRawClips(project_id=project.id, video_key=key, variant_count=1)).job)
    clip = (await render.ListClips(project_id=project.id)).clips[0]

    error = await render.error_of("RenderFinalClip", clip_id=clip.id, preset_name="vine")

    assert error.reason == "UNKNOWN_PRESET" or [v.field for v in error.violations] == ["preset_name"]


async def test_clips_from_segments_follow_the_selection_and_are_appended(render: Render, data_dir: Path) -> None:
    key = await put_video(data_dir, "uploads/seg.mp4", seconds=4)
    video = (await render.CreateSourceVideo(media_key=key)).source_video
    ids = [
        (await render.CreateSegment(source_video_id=video.id, start_time=s, end_time=e)).segment.id
        for s, e in ((0, 0.8), (1, 2.5), (3, 3.9))
    ]
    project = await render.new_project("segments")
    await render.SetProjectSegments(project_id=project.id, segment_ids=ids)

    first = await render.GenerateFromSegments(
        project_id=project.id, variant_count=1, selection_mode=render_pb2.SELECTION_MODE_SEQUENTIAL, target_duration=2
    )
    assert first.segments_count == 3
    await _succeeded(render, first.job)
    second = await render.GenerateFromSegments(
        project_id=project.id, variant_count=2, selection_mode=render_pb2.SELECTION_MODE_WEIGHTED, target_duration=2,
        mute_source_voice=True,
    )  # fmt: skip
    await _succeeded(render, second.job)

    clips = (await render.ListClips(project_id=project.id)).clips
    assert sorted(c.variant_index for c in clips) == [1, 2, 3]
    for clip in clips:
        probed = probe_output(data_dir / "media" / clip.raw_video_key)
        assert (probed.width, probed.height) == (1080, 1920)
        assert probed.duration == pytest.approx(2.0, abs=0.1)


async def test_process_video_renders_variants_with_audio_and_burned_subtitles(render: Render, data_dir: Path) -> None:
    video = await put_video(data_dir, "uploads/pv.mp4", seconds=5)
    await make_audio(data_dir / "media" / "uploads/voice.wav", seconds=2.5)
    srt = put_bytes(data_dir, "uploads/subs.srt", b"1\n00:00:00,200 --> 00:00:02,000\nHello from ProcessVideo\n")

    job = (
        await render.ProcessVideo(
            video_key=video, audio_key="uploads/voice.wav", srt_key=srt, variant_count=2, output_name="promo",
            subtitle_settings=render_pb2.SubtitleStyle(position_y=50),
        )
    ).job  # fmt: skip
    done = await _succeeded(render, job)

    assert len(done.output_keys) == 2
    for key in done.output_keys:
        await _assert_deliverable(data_dir / "media" / key, 2.5)
    assert scratch_files(data_dir) == []


async def _start_process_video(render: Render, data_dir: Path) -> render_pb2.Job:
    video = await put_video(data_dir, "uploads/long.mp4", seconds=4)
    return (await render.ProcessVideo(video_key=video, target_duration=4, variant_count=10)).job


async def _start_raw_clips(render: Render, data_dir: Path) -> render_pb2.Job:
    project = await render.new_project("cancel raw", target_duration=4)
    key = await put_video(data_dir, "uploads/raw.mp4", seconds=6)
    return (await render.GenerateRawClips(project_id=project.id, video_key=key, variant_count=10)).job


async def _start_from_segments(render: Render, data_dir: Path) -> render_pb2.Job:
    key = await put_video(data_dir, "uploads/segs.mp4", seconds=6)
    video = (await render.CreateSourceVideo(media_key=key)).source_video
    segment = (await render.CreateSegment(source_video_id=video.id, start_time=0, end_time=6)).segment
    project = await render.new_project("cancel segments")
    await render.SetProjectSegments(project_id=project.id, segment_ids=[segment.id])
    return (await render.GenerateFromSegments(project_id=project.id, variant_count=10, target_duration=5)).job


async def _start_final_render(render: Render, data_dir: Path) -> render_pb2.Job:
    project = await render.new_project("cancel final", target_duration=2)
    key = await put_video(data_dir, "uploads/final.mp4", seconds=3)
    await _succeeded(render, (await render.GenerateRawClips(project_id=project.id, video_key=key, variant_count=1)).job)
    clip = (await render.ListClips(project_id=project.id)).clips[0]
    words = " ".join(f"word{i}" for i in range(60))
    await render.UpdateClipContent(clip_id=clip.id, tts_text=f"A long voiceover to render. {words}.")
    return (await render.RenderFinalClip(clip_id=clip.id, preset_name="generic")).job


@pytest.mark.parametrize(
    "start_job",
    [_start_raw_clips, _start_from_segments, _start_final_render, _start_process_video],
    ids=["raw_clips", "segments", "final", "process_video"],
)
async def test_cancel_during_a_render_stops_ffmpeg_and_leaves_nothing(
    render: Render, render_process: ServiceProcess, data_dir: Path, start_job: Callable[..., object]
) -> None:
    """Guarantee 6 for each media pipeline: ffmpeg gone within 2 s, job cancelled, no scratch files."""
    job = await start_job(render, data_dir)  # type: ignore[misc]
    for _ in range(600):  # until an ffmpeg of this job is running
        current = await render.job(job.id)
        if current.status == render_pb2.JOB_STATUS_RUNNING and ffmpeg_children(render_process.pid):
            break
        assert current.status in (render_pb2.JOB_STATUS_QUEUED, render_pb2.JOB_STATUS_RUNNING), current.error
        await asyncio.sleep(0.05)
    assert ffmpeg_children(render_process.pid)

    cancelled_at = time.monotonic()
    await render.CancelJob(job_id=job.id)
    for _ in range(100):
        if not ffmpeg_children(render_process.pid):
            break
        await asyncio.sleep(0.05)

    assert time.monotonic() - cancelled_at < 2.0
    done = await render.wait_job(job.id, within=10)
    assert done.status == render_pb2.JOB_STATUS_CANCELLED
    for _ in range(50):
        if not scratch_files(data_dir):
            break
        await asyncio.sleep(0.1)
    assert scratch_files(data_dir) == []
    if done.clip_id:
        clip = (await render.GetClip(clip_id=done.clip_id)).clip
        assert clip.final_status != render_pb2.CLIP_STATUS_PROCESSING
