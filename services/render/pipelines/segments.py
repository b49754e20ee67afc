"""GenerateFromSegments: clips assembled from the project's ordered segments.

Segments are taken in the selection mode's order (random / sequential / weighted:
longest first), filled up to `target_duration` with the last one cut to fit, and
joined into one uniform 1080x1920 clip. With `mute_source_voice` the speech found
in each source's audio is ducked out with short fades, the rest of the sound kept.
New variants are appended after the project's existing clips.
"""

from __future__ import annotations

from services.render.jobs import JobOutcome, PipelineError
from services.render.media.normalize import FrameFit
from services.render.media.presets import INTERMEDIATE
from services.render.media.segments import SelectionMode, pieces_duration, render_pieces, select_pieces
from services.render.media.thumbnails import render_thumbnail
from services.render.pipelines.context import JobContext
from services.render.pipelines.sources import ffmpeg_step, segment_ranges, stable_seed
from services.render.records import NewClip

DEFAULT_TARGET_SECONDS = 30.0


async def generate_from_segments(ctx: JobContext) -> JobOutcome:
    job = ctx.job
    if job.project_id is None:
        raise PipelineError("GenerateFromSegments needs a project.", reason="PROJECT_REQUIRED")
    project = await ctx.library.project(job.project_id)
    segments = await ctx.library.project_segments(job.project_id)
    wanted = [str(s) for s in job.params.get("segment_ids") or []]
    if wanted:
        # The order the request saw, even if the project's list changed since.
        by_id = {s.id: s for s in segments}
        segments = [by_id[i] for i in wanted if i in by_id]
    if not segments:
        raise PipelineError("The project has no segments to build clips from.", reason="NO_SEGMENTS")
    count = int(job.params.get("variant_count") or 3)
    target = float(job.params.get("target_duration") or DEFAULT_TARGET_SECONDS)
    mode = SelectionMode.parse(str(job.params.get("selection_mode") or "random"))
    mute = bool(job.params.get("mute_source_voice", False))

    await ctx.report(2, "reading segments")
    ranges = await segment_ranges(ctx, segments, with_speech=mute)
    await ctx.report(8, "segments ready")

    clips: list[NewClip] = []
    share = 88.0 / count
    first_index = project.clip_count + 1
    for index in range(count):
        pieces = select_pieces(ranges, mode, target, variant_index=index, seed=stable_seed(job.id))
        variant = first_index + index
        base = f"projects/{job.project_id}/clips/{job.id}-{job.fencing_token}/variant-{variant}"
        begin = 8 + share * index
        step = f"rendering variant {index + 1} of {count}"
        with ffmpeg_step(step):
            async with ctx.media.temp_path(f"{base}.mp4") as partial:
                await render_pieces(
                    pieces,
                    partial,
                    INTERMEDIATE,
                    time_limit=ctx.time_remaining(),
                    fit=FrameFit.CROP,
                    mute_speech=mute,
                    on_progress=ctx.stage(begin, begin + share * 0.95, step),
                )
            async with ctx.media.temp_path(f"{base}.jpg") as thumbnail:
                await render_thumbnail(
                    ctx.media.local_path(f"{base}.mp4"), thumbnail, at_seconds=0.5, time_limit=ctx.time_remaining()
                )
        clips.append(
            NewClip(
                variant_index=variant,
                raw_video_key=f"{base}.mp4",
                duration_seconds=round(pieces_duration(pieces), 3),
                thumbnail_key=f"{base}.jpg",
            )
        )
    await ctx.report(97, "saving clips")
    await ctx.library.add_clips(job.project_id, clips, replace=False)
    return JobOutcome(
        output_keys=tuple(c.raw_video_key for c in clips),
        duration_seconds=max(c.duration_seconds for c in clips),
        extra={"segments_count": len(segments)},
    )
