"""What the media pipelines share: reading sources from the library and the media
store as `SourceRange`s, and turning ffmpeg failures into readable job errors."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from editai_common.ffmpeg import FfmpegFailed, MediaInfo, probe_media
from services.render.jobs import PipelineError
from services.render.media.segments import SourceRange
from services.render.media.speech_regions import Region, detect_speech_regions
from services.render.pipelines.context import JobContext
from services.render.records import Segment

log = logging.getLogger("editai.render.pipelines")


@contextmanager
def ffmpeg_step(step: str) -> Iterator[None]:
    """FfmpegFailed → PipelineError naming the step; ffmpeg's log goes to our log only."""
    try:
        yield
    except FfmpegFailed as error:
        log.warning(
            "ffmpeg failed", extra={"step": step, "returncode": error.returncode, "stderr": error.stderr_tail[-2000:]}
        )
        raise PipelineError(
            f"ffmpeg could not finish {step}; the input may be damaged or unsupported.", reason="FFMPEG_FAILED"
        ) from None


async def probe_video(path: Path) -> MediaInfo:
    """Probe a source that must have a picture and a positive length."""
    if not await asyncio.to_thread(path.is_file):
        raise PipelineError("The source video is missing from the media store.", reason="MEDIA_NOT_FOUND")
    info = await probe_media(path)  # UNSUPPORTED_MEDIA for non-media files
    if not info.has_video:
        raise PipelineError("The source has no video stream.", reason="NO_VIDEO_STREAM")
    if info.duration_seconds <= 0.1:
        raise PipelineError("The source video is empty.", reason="EMPTY_VIDEO")
    return info


async def probe_audio(path: Path) -> MediaInfo:
    if not await asyncio.to_thread(path.is_file):
        raise PipelineError("The audio is missing from the media store.", reason="MEDIA_NOT_FOUND")
    info = await probe_media(path)
    if not info.has_audio:
        raise PipelineError("The audio file has no audio stream.", reason="NO_AUDIO_STREAM")
    if info.duration_seconds <= 0.05:
        raise PipelineError("The audio is empty.", reason="EMPTY_AUDIO")
    return info


async def speech_of(ctx: JobContext, source: Path, duration: float, has_audio: bool) -> tuple[Region, ...]:
    """Speech regions of a whole source (source time); none without audio."""
    if not has_audio:
        return ()
    with ffmpeg_step("detecting speech in the source audio"):
        regions = await detect_speech_regions(source, duration=duration, time_limit=ctx.time_remaining())
    return tuple(regions)


async def segment_ranges(
    ctx: JobContext, segments: Sequence[Segment], *, with_speech: bool = False
) -> list[SourceRange]:
    """The segments as source ranges (each source probed, and analysed once)."""
    sources: dict[str, tuple[Path, float, bool, tuple[Region, ...]]] = {}
    ranges: list[SourceRange] = []
    for segment in segments:
        if segment.source_video_id not in sources:
            video = await ctx.library.source_video(segment.source_video_id)
            path = ctx.media.local_path(video.media_key)
            info = await probe_video(path)
            speech = await speech_of(ctx, path, info.duration_seconds, info.has_audio) if with_speech else ()
            sources[segment.source_video_id] = (path, info.duration_seconds, info.has_audio, speech)
        path, duration, has_audio, speech = sources[segment.source_video_id]
        # A segment reaching past the end of its source keeps what exists.
        end = min(segment.end_time, duration)
        if end - segment.start_time >= 0.1:
            ranges.append(
                SourceRange(path, segment.start_time, end, has_audio=has_audio, label=segment.id, speech=speech)
            )
    return ranges


def stable_seed(text: str) -> int:
    """A seed from a job id: a retried attempt makes the same random choices."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)


def key_safe(name: str, default: str = "output") -> str:
    """A user-chosen name reduced to media-key characters."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.")[:80]
    return cleaned or default
