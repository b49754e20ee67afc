"""GenerateFromSegments, first version: variant i is a plain vertical transcode of one of the
project's segments (chosen by the selection mode), cut to the target duration."""

from __future__ import annotations

import random

from editai_common.ffmpeg import probe_media
from services.render.jobs import JobOutcome, PipelineError
from services.render.pipelines.context import JobContext
from services.render.pipelines.vertical import grab_thumbnail, transcode_vertical_window
from services.render.records import NewClip, Segment


def order_segments(segments: list[Segment], mode: str, seed: str) -> list[Segment]:
    if mode == "sequential":
        return list(segments)
    if mode == "weighted":
        return sorted(segments, key=lambda s: s.duration, reverse=True)
    shuffled = list(segments)
    random.Random(seed).shuffle(shuffled)
    return shuffled


async def generate_from_segments(ctx: JobContext) -> JobOutcome:
    job = ctx.job
    if job.project_id is None:
        raise PipelineError("GenerateFromSegments needs a project.", reason="PROJECT_REQUIRED")
    segments = await ctx.library.project_segments(job.project_id)
    if not segments:
        raise PipelineError("The project has no segments.", reason="NO_SEGMENTS")
    count = int(job.params.get("variant_count", 3))
    target = float(job.params.get("target_duration", 30.0))
    mute = bool(job.params.get("mute_source_voice", False))
    ordered = order_segments(segments, str(job.params.get("selection_mode", "random")), job.id)
    clips: list[NewClip] = []
    keys: list[str] = []
    share = 95.0 / count
    for index in range(count):
        segment = ordered[index % len(ordered)]
        video = await ctx.library.source_video(segment.source_video_id)
        source = ctx.media.local_path(video.media_key)
        info = await probe_media(source)
        length = min(target, segment.duration)
        base = f"projects/{job.project_id}/clips/{job.id}-{job.fencing_token}/variant-{index + 1}"
        begin = 2 + share * index
        async with ctx.media.temp_path(f"{base}.mp4") as out:
            await transcode_vertical_window(
                source, out, start=segment.start_time, duration=length, with_audio=info.has_audio and not mute,
                time_limit=ctx.time_remaining(),
                on_progress=ctx.stage(begin, begin + share * 0.9, f"rendering variant {index + 1} of {count}"),
            )  # fmt: skip
        async with ctx.media.temp_path(f"{base}.jpg") as thumb:
            await grab_thumbnail(source, thumb, at=segment.start_time + length / 2, time_limit=ctx.time_remaining())
        clips.append(NewClip(variant_index=index + 1, raw_video_key=f"{base}.mp4", duration_seconds=length,
                             thumbnail_key=f"{base}.jpg"))  # fmt: skip
        keys.append(f"{base}.mp4")
    await ctx.report(98, "saving clips")
    await ctx.library.add_clips(job.project_id, clips, replace=True)
    return JobOutcome(output_keys=tuple(keys))
