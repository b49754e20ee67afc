"""GenerateRawClips: `variant_count` distinct vertical clips from one source video.

One low-resolution analysis pass scores the source (scene changes, motion, blur);
each variant takes the best window of its own part of the timeline, is brought to
1080x1920 H.264/AAC (rotation applied, cropped or blur-padded) and gets a 320 px
thumbnail. The clips replace the project's previous raw clips as a whole.
"""

from __future__ import annotations

from services.render.jobs import JobOutcome, PipelineError
from services.render.media.normalize import choose_fit
from services.render.media.presets import INTERMEDIATE
from services.render.media.probing import display_rotation
from services.render.media.scoring import analyse_frames, pick_windows
from services.render.media.segments import Piece, SourceRange, render_pieces
from services.render.media.thumbnails import render_thumbnail
from services.render.pipelines.context import JobContext
from services.render.pipelines.sources import ffmpeg_step, probe_video
from services.render.records import NewClip

DEFAULT_TARGET_SECONDS = 30.0


async def generate_raw_clips(ctx: JobContext) -> JobOutcome:
    job = ctx.job
    if job.project_id is None:
        raise PipelineError("GenerateRawClips needs a project.", reason="PROJECT_REQUIRED")
    project = await ctx.library.project(job.project_id)
    source = ctx.media.local_path(str(job.params["video_key"]))
    await ctx.report(1, "probing source video")
    info = await probe_video(source)
    count = int(job.params.get("variant_count") or 3)
    target = project.target_duration or DEFAULT_TARGET_SECONDS

    with ffmpeg_step("analysing the source video"):
        frames = await analyse_frames(
            source,
            ctx.workdir,
            time_limit=ctx.time_remaining(),
            duration=info.duration_seconds,
            on_progress=ctx.stage(2, 15, "analysing source video"),
        )
    windows = pick_windows(frames, source_duration=info.duration_seconds, target_duration=target, variant_count=count)
    rotation = await display_rotation(source, info)
    fit = choose_fit(info.width, info.height, rotation, INTERMEDIATE.width, INTERMEDIATE.height)
    whole = SourceRange(source, 0.0, info.duration_seconds, has_audio=info.has_audio)

    clips: list[NewClip] = []
    share = 80.0 / count
    for index, window in enumerate(windows):
        base = f"projects/{job.project_id}/clips/{job.id}-{job.fencing_token}/variant-{index + 1}"
        begin = 15 + share * index
        step = f"rendering variant {index + 1} of {count}"
        with ffmpeg_step(step):
            async with ctx.media.temp_path(f"{base}.mp4") as partial:
                await render_pieces(
                    [Piece(whole, window.start, window.end, 0.0)],
                    partial,
                    INTERMEDIATE,
                    time_limit=ctx.time_remaining(),
                    fit=fit,
                    on_progress=ctx.stage(begin, begin + share * 0.95, step),
                )
            async with ctx.media.temp_path(f"{base}.jpg") as thumbnail:
                await render_thumbnail(
                    ctx.media.local_path(f"{base}.mp4"),
                    thumbnail,
                    at_seconds=min(1.0, window.duration / 2),
                    time_limit=ctx.time_remaining(),
                )
        clips.append(
            NewClip(
                variant_index=index + 1,
                raw_video_key=f"{base}.mp4",
                duration_seconds=round(window.duration, 3),
                thumbnail_key=f"{base}.jpg",
            )
        )
    await ctx.report(97, "saving clips")
    await ctx.library.add_clips(job.project_id, clips, replace=True)
    return JobOutcome(
        output_keys=tuple(c.raw_video_key for c in clips),
        duration_seconds=max(c.duration_seconds for c in clips),
        extra={"windows": [[round(w.start, 3), round(w.end, 3)] for w in windows]},
    )
