"""The media pipelines against real ffmpeg and a real media store, with the library
and the TTS service replaced by in-memory stand-ins (the e2e tests run them through
the gRPC API). Checks what a user would see: clip rows, outputs that play, progress
that only moves forward, and a clip that ends failed with a readable reason."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from editai_common.errors import InvalidArgument
from editai_common.ffmpeg import ProgressCallback
from editai_common.media_store import LocalMediaStore
from services.render.jobs import Job, JobStatus, JobType, PipelineError
from services.render.media.loudness import measure_loudness
from services.render.pipelines.context import PipelineLibrary, SpeechPort, SpeechResult, WordTiming
from services.render.pipelines.final import render_final_clip
from services.render.pipelines.process_video import process_video
from services.render.pipelines.raw_clips import generate_raw_clips
from services.render.pipelines.segments import generate_from_segments
from services.render.records import (
    Clip,
    ClipContent,
    ClipStatus,
    Export,
    NewClip,
    Project,
    ProjectStatus,
    Segment,
    SourceVideo,
)
from tests.support.media import make_audio, make_video, probe_output, top_level_boxes

pytestmark = pytest.mark.slow
NOW = datetime(2026, 1, 1, tzinfo=UTC)


class MemoryLibrary:
    """The PipelineLibrary port over dicts (writes are not fenced here)."""

    def __init__(self) -> None:
        self.projects: dict[str, Project] = {}
        self.segments: dict[str, list[Segment]] = {}
        self.videos: dict[str, SourceVideo] = {}
        self.clips: dict[str, Clip] = {}
        self.contents: dict[str, ClipContent] = {}
        self.exports: list[Export] = []

    async def project(self, project_id: str) -> Project:
        return self.projects[project_id]

    async def project_segments(self, project_id: str) -> list[Segment]:
        return list(self.segments.get(project_id, []))

    async def source_video(self, source_video_id: str) -> SourceVideo:
        return self.videos[source_video_id]

    async def clip(self, clip_id: str) -> Clip:
        return self.clips[clip_id]

    async def clip_content(self, clip_id: str) -> ClipContent:
        return self.contents[clip_id]

    async def add_clips(self, project_id: str, clips: Sequence[NewClip], *, replace: bool = False) -> list[Clip]:
        if replace:
            self.clips = {k: c for k, c in self.clips.items() if c.project_id != project_id}
        added = []
        for new in clips:
            clip = Clip(
                id=uuid.uuid4().hex, project_id=project_id, profile_id="p", variant_index=new.variant_index,
                raw_video_key=new.raw_video_key, thumbnail_key=new.thumbnail_key, final_video_key="", srt_key="",
                audio_key="", final_status=ClipStatus.PENDING, error="", duration_seconds=new.duration_seconds,
                created_at=NOW, updated_at=NOW,
            )  # fmt: skip
            self.clips[clip.id] = clip
            added.append(clip)
        project = self.projects[project_id]
        count = sum(1 for c in self.clips.values() if c.project_id == project_id)
        self.projects[project_id] = dataclasses.replace(project, clip_count=count)
        return added

    async def set_clip_status(self, clip_id: str, status: ClipStatus, error: str = "") -> None:
        self.clips[clip_id] = dataclasses.replace(self.clips[clip_id], final_status=status, error=error)

    async def set_clip_media(
        self,
        clip_id: str,
        *,
        raw_video_key: str | None = None,
        final_video_key: str | None = None,
        thumbnail_key: str | None = None,
        srt_key: str | None = None,
        audio_key: str | None = None,
        duration_seconds: float | None = None,
    ) -> None:
        keys = {
            "raw_video_key": raw_video_key, "final_video_key": final_video_key, "thumbnail_key": thumbnail_key,
            "srt_key": srt_key, "audio_key": audio_key, "duration_seconds": duration_seconds,
        }  # fmt: skip
        changes: dict[str, Any] = {k: v for k, v in keys.items() if v is not None}
        self.clips[clip_id] = dataclasses.replace(self.clips[clip_id], **changes)

    async def set_clip_speech(self, clip_id: str, *, tts_audio_key: str, tts_timings: Any) -> None:
        content = self.contents[clip_id]
        self.contents[clip_id] = dataclasses.replace(content, tts_audio_key=tts_audio_key, tts_timings=tts_timings)

    async def set_clip_srt(self, clip_id: str, srt_content: str) -> None:
        self.contents[clip_id] = dataclasses.replace(self.contents[clip_id], srt_content=srt_content)

    async def record_export(self, clip_id: str, *, preset: str, output_key: str, size_bytes: int) -> Export:
        export = Export(uuid.uuid4().hex, clip_id, preset, output_key, size_bytes, NOW)
        self.exports.append(export)
        return export


class ToneSpeech:
    """Stands in for the TTS service: a tone per word, with word timings."""

    def __init__(self, store: LocalMediaStore, workdir: Path) -> None:
        self.store = store
        self.workdir = workdir
        self.calls: list[str] = []

    async def synthesize(
        self,
        text: str,
        *,
        voice_id: str = "",
        model_id: str = "",
        provider: str = "",
        remove_silence: bool = False,
        min_silence_duration: float | None = None,
        silence_padding: float | None = None,
        time_limit: float = 120.0,
    ) -> SpeechResult:
        self.calls.append(text)
        words = text.split()
        key = f"tts/{uuid.uuid4().hex}.wav"
        seconds = 0.4 * len(words)
        await make_audio(
            self.store.local_path(key), seconds=seconds, expression="0.1*sin(2*PI*200*t)*gt(mod(t,0.4),0.05)"
        )
        timings = tuple(WordTiming(word, i * 0.4 + 0.05, i * 0.4 + 0.38, 0, 0) for i, word in enumerate(words))
        return SpeechResult(audio_key=key, content_type="audio/wav", duration_seconds=seconds, words=timings)


class Context:
    """The JobContext a worker would hand over for one attempt."""

    def __init__(self, job: Job, media: LocalMediaStore, workdir: Path, library: MemoryLibrary, speech: ToneSpeech):
        self.job, self.media, self.workdir = job, media, workdir
        self.library: PipelineLibrary = library
        self.speech: SpeechPort = speech
        self.progress: list[tuple[float, str]] = []

    def time_remaining(self) -> float:
        return 120.0

    async def report(self, percentage: float, step: str, eta_seconds: float | None = None) -> None:
        self.progress.append((percentage, step))

    def stage(self, start_pct: float, end_pct: float, step: str) -> ProgressCallback:
        async def callback(fraction: float) -> None:
            await self.report(start_pct + (end_pct - start_pct) * fraction, step)

        return callback


def _job(kind: JobType, params: Mapping[str, Any], *, project_id: str | None = None, clip_id: str | None = None) -> Job:
    return Job(
        id=uuid.uuid4().hex, profile_id="p", type=kind, status=JobStatus.RUNNING, project_id=project_id,
        clip_id=clip_id, request_id=None, params=params, attempt=1, max_attempts=3, fencing_token=7, percentage=0,
        current_step="", error_reason="", error="", outputs={}, created_at=NOW, started_at=NOW, finished_at=None,
    )  # fmt: skip


@pytest.fixture
def world(tmp_path: Path) -> tuple[LocalMediaStore, MemoryLibrary, ToneSpeech, Path]:
    store = LocalMediaStore(tmp_path / "store")
    workdir = tmp_path / "work"
    workdir.mkdir()
    library = MemoryLibrary()
    library.projects["proj"] = Project("proj", "p", "Demo", "", 2.0, ProjectStatus.GENERATING, 0, None, NOW, NOW)
    return store, library, ToneSpeech(store, tmp_path), workdir


def _forward_only(ctx: Context) -> bool:
    values = [p for p, _ in ctx.progress]
    return values == sorted(values)


async def test_generate_raw_clips_makes_distinct_vertical_variants_with_thumbnails(world) -> None:
    store, library, speech, workdir = world
    await make_video(store.local_path("uploads/source.mp4"), seconds=6.0, size="320x240")
    ctx = Context(
        _job(JobType.GENERATE_RAW_CLIPS, {"video_key": "uploads/source.mp4", "variant_count": 3}, project_id="proj"),
        store, workdir, library, speech,
    )  # fmt: skip

    outcome = await generate_raw_clips(ctx)

    clips = sorted(library.clips.values(), key=lambda c: c.variant_index)
    assert [c.variant_index for c in clips] == [1, 2, 3]
    assert all(c.final_status is ClipStatus.PENDING for c in clips)
    starts = [window[0] for window in outcome.extra["windows"]]
    assert len(set(starts)) == 3
    for clip in clips:
        probed = probe_output(store.local_path(clip.raw_video_key))
        assert (probed.video_codec, probed.width, probed.height) == ("h264", 1080, 1920)
        assert probed.has_audio and probed.duration == pytest.approx(2.0, abs=0.1)
        assert (await _thumbnail_width(store, clip.thumbnail_key)) == 320
    assert _forward_only(ctx)


async def _thumbnail_width(store: LocalMediaStore, key: str) -> int:
    from editai_common.ffmpeg import probe_media

    return (await probe_media(store.local_path(key))).width


async def test_generate_from_segments_appends_variants_in_the_requested_order(world) -> None:
    store, library, speech, workdir = world
    await make_video(store.local_path("uploads/a.mp4"), seconds=4.0)
    library.videos["va"] = SourceVideo("va", "p", "a", "uploads/a.mp4", 4.0, 320, 240, 0, True, 1, NOW)
    library.segments["proj"] = [
        Segment("s1", "p", "va", 0.0, 0.6, (), NOW),
        Segment("s2", "p", "va", 1.0, 2.5, (), NOW),
        Segment("s3", "p", "va", 3.0, 3.9, (), NOW),
    ]
    await library.add_clips("proj", [NewClip(1, "existing.mp4", 1.0)])
    params = {"variant_count": 2, "selection_mode": "weighted", "target_duration": 2.0, "mute_source_voice": True}
    ctx = Context(_job(JobType.GENERATE_FROM_SEGMENTS, params, project_id="proj"), store, workdir, library, speech)

    outcome = await generate_from_segments(ctx)

    variants = sorted(c.variant_index for c in library.clips.values())
    assert variants == [1, 2, 3]  # appended after the existing clip
    for key in outcome.output_keys:
        probed = probe_output(store.local_path(key))
        assert (probed.width, probed.height) == (1080, 1920)
        assert probed.duration == pytest.approx(2.0, abs=0.1)
    assert outcome.extra["segments_count"] == 3


async def _clip_with_content(library: MemoryLibrary, store: LocalMediaStore, **content: Any) -> str:
    await make_video(store.local_path("raw/clip.mp4"), seconds=1.5, size="1080x1920")
    (clip,) = await library.add_clips("proj", [NewClip(1, "raw/clip.mp4", 1.5)])
    library.contents[clip.id] = ClipContent(
        clip.id, content.get("tts_text", ""), content.get("srt_content", ""), content.get("subtitle_settings", {}),
        "", None, None,
    )  # fmt: skip
    return clip.id


async def test_render_final_clip_exports_a_finished_clip_fitted_to_the_voiceover(world) -> None:
    store, library, speech, workdir = world
    await make_video(store.local_path("uploads/seg.mp4"), seconds=3.0)
    library.videos["vs"] = SourceVideo("vs", "p", "s", "uploads/seg.mp4", 3.0, 320, 240, 0, True, 1, NOW)
    library.segments["proj"] = [Segment("s1", "p", "vs", 0.0, 3.0, (), NOW)]
    clip_id = await _clip_with_content(
        library, store, tts_text="One two three four five six seven eight.", subtitle_settings={"positionY": 50}
    )
    params = {"preset_name": "tiktok", "filters": {"enable_sharpen": True, "sharpen_amount": 1.0}}
    ctx = Context(_job(JobType.RENDER_FINAL_CLIP, params, clip_id=clip_id), store, workdir, library, speech)

    outcome = await render_final_clip(ctx)

    clip = library.clips[clip_id]
    assert clip.final_status is ClipStatus.COMPLETED and clip.final_video_key == outcome.output_keys[0]
    output = store.local_path(clip.final_video_key)
    probed = probe_output(output)
    # 8 words x 0.4 s = 3.2 s of voiceover: longer than the 1.5 s clip, so segments extend it.
    assert (probed.video_codec, probed.width, probed.height, probed.pix_fmt) == ("h264", 1080, 1920, "yuv420p")
    assert probed.duration == pytest.approx(3.2, abs=0.1)
    assert (await measure_loudness(output)).integrated_lufs == pytest.approx(-14, abs=1)
    boxes = top_level_boxes(output)
    assert boxes.index("moov") < boxes.index("mdat")
    srt = store.local_path(clip.srt_key).read_text()
    assert "One two" in srt and "seven eight." in srt
    assert library.exports[-1].preset == "tiktok"
    assert library.contents[clip_id].tts_audio_key == clip.audio_key
    assert _forward_only(ctx) and ctx.progress[-1][0] >= 97
    assert list(store.partial_dir().iterdir()) == []


async def test_render_final_clip_with_an_unknown_preset_fails_the_clip_readably(world) -> None:
    store, library, speech, workdir = world
    clip_id = await _clip_with_content(library, store, tts_text="Hello there.")
    ctx = Context(
        _job(JobType.RENDER_FINAL_CLIP, {"preset_name": "vine"}, clip_id=clip_id), store, workdir, library, speech
    )

    with pytest.raises(InvalidArgument) as raised:
        await render_final_clip(ctx)

    assert raised.value.reason == "UNKNOWN_PRESET"
    clip = library.clips[clip_id]
    assert clip.final_status is ClipStatus.FAILED and "vine" in clip.error
    assert speech.calls == []  # refused before any work


async def test_render_final_clip_without_text_fails_the_clip(world) -> None:
    store, library, speech, workdir = world
    clip_id = await _clip_with_content(library, store)
    ctx = Context(_job(JobType.RENDER_FINAL_CLIP, {}, clip_id=clip_id), store, workdir, library, speech)

    with pytest.raises(PipelineError) as raised:
        await render_final_clip(ctx)

    assert raised.value.reason == "NO_TTS_TEXT"
    assert library.clips[clip_id].final_status is ClipStatus.FAILED


async def test_process_video_makes_variants_with_audio_and_subtitles(world) -> None:
    store, library, speech, workdir = world
    await make_video(store.local_path("uploads/v.mp4"), seconds=5.0)
    await make_audio(store.local_path("uploads/a.wav"), seconds=2.0)
    store.local_path("uploads/s.srt").write_text("1\n00:00:00,100 --> 00:00:01,500\nHello world\n")
    params = {
        "video_key": "uploads/v.mp4", "audio_key": "uploads/a.wav", "srt_key": "uploads/s.srt",
        "output_name": "my clip", "variant_count": 2, "subtitle_settings": {"fontSize": 80},
    }  # fmt: skip
    ctx = Context(_job(JobType.PROCESS_VIDEO, params), store, workdir, library, speech)

    outcome = await process_video(ctx)

    assert len(outcome.output_keys) == 2 and all("my-clip" in k for k in outcome.output_keys)
    for key in outcome.output_keys:
        probed = probe_output(store.local_path(key))
        assert (probed.width, probed.height, probed.has_audio) == (1080, 1920, True)
        assert probed.duration == pytest.approx(2.0, abs=0.1)
    assert _forward_only(ctx)


async def test_process_video_refuses_bad_subtitle_settings_naming_the_field(world) -> None:
    store, library, speech, workdir = world
    params = {"video_key": "uploads/none.mp4", "subtitle_settings": {"positionY": 140}}
    ctx = Context(_job(JobType.PROCESS_VIDEO, params), store, workdir, library, speech)

    with pytest.raises(InvalidArgument) as raised:
        await process_video(ctx)

    assert raised.value.violations[0].field == "subtitle_settings.positionY"


async def test_process_video_with_a_non_media_upload_is_invalid_argument(world) -> None:
    store, library, speech, workdir = world
    store.local_path("uploads").mkdir(parents=True, exist_ok=True)
    store.local_path("uploads/x.mp4").write_bytes(b"not a video at all" * 100)
    ctx = Context(_job(JobType.PROCESS_VIDEO, {"video_key": "uploads/x.mp4"}), store, workdir, library, speech)

    with pytest.raises(InvalidArgument) as raised:
        await process_video(ctx)

    assert raised.value.reason == "UNSUPPORTED_MEDIA"


async def test_process_video_can_speak_its_text_and_caption_it(world) -> None:
    store, library, speech, workdir = world
    await make_video(store.local_path("uploads/v.mp4"), seconds=3.0)
    params = {
        "video_key": "uploads/v.mp4",
        "generate_audio": True,
        "tts_text": "Three little words",
        "variant_count": 1,
    }
    ctx = Context(_job(JobType.PROCESS_VIDEO, params), store, workdir, library, speech)

    outcome = await process_video(ctx)

    assert speech.calls == ["Three little words"]
    probed = probe_output(store.local_path(outcome.output_keys[0]))
    assert probed.duration == pytest.approx(1.2, abs=0.1)  # 3 words x 0.4 s
    assert (await measure_loudness(store.local_path(outcome.output_keys[0]))).integrated_lufs == pytest.approx(
        -14, abs=1
    )


async def test_process_video_muting_a_source_that_is_all_voice_leaves_silence(world) -> None:
    store, library, speech, workdir = world
    await make_video(store.local_path("uploads/talk.mp4"), seconds=2.0)  # a steady tone: all "speech"
    params = {"video_key": "uploads/talk.mp4", "target_duration": 2, "mute_source_voice": True}
    ctx = Context(_job(JobType.PROCESS_VIDEO, params), store, workdir, library, speech)

    outcome = await process_video(ctx)

    output = store.local_path(outcome.output_keys[0])
    assert probe_output(output).has_audio
    assert (await measure_loudness(output)).integrated_lufs < -60
