"""GenerateRawClips, first version: N evenly spread windows of the source, each a plain
1080x1920 transcode with a thumbnail. (The media pipeline replaces the window choice
and look; the machinery around it stays.)"""

from __future__ import annotations

from editai_common.ffmpeg import probe_media
from services.render.jobs import JobOutcome, PipelineError
from services.render.pipelines.context import JobContext
from services.render.pipelines.vertical import grab_thumbnail, transcode_vertical_window
from services.render.records import NewClip


async def generate_raw_clips(ctx: JobContext) -> JobOutcome:
    job = ctx.job
    if job.project_id is None:
        raise PipelineError("GenerateRawClips needs a project.", reason="PROJECT_REQUIRED")
    project = await ctx.library.project(job.project_id)
    source = ctx.media.local_path(str(job.params["video_key"]))
    await ctx.report(1, "probing source video")
    info = await probe_media(source)
    if not info.has_video or info.duration_seconds <= 0:
        raise PipelineError("The source has no video to cut clips from.", reason="NO_VIDEO_STREAM")
    count = int(job.params.get("variant_count", 3))
    length = min(project.target_duration or 30.0, info.duration_seconds)
    span = max(info.duration_seconds - length, 0.0)
    clips: list[NewClip] = []
    keys: list[str] = []
    share = 95.0 / count
    for index in range(count):
        start = span * index / max(count - 1, 1) if count > 1 else 0.0
        base = f"projects/{job.project_id}/clips/{job.id}-{job.fencing_token}/variant-{index + 1}"
        step = f"rendering variant {index + 1} of {count}"
        begin = 2 + share * index
        async with ctx.media.temp_path(f"{base}.mp4") as out:
            await transcode_vertical_window(
                source, out, start=start, duration=length, with_audio=info.has_audio,
                time_limit=ctx.time_remaining(), on_progress=ctx.stage(begin, begin + share * 0.9, step),
            )  # fmt: skip
        async with ctx.media.temp_path(f"{base}.jpg") as thumb:
            await grab_thumbnail(source, thumb, at=start + length / 2, time_limit=ctx.time_remaining())
        clips.append(NewClip(variant_index=index + 1, raw_video_key=f"{base}.mp4", duration_seconds=length,
                             thumbnail_key=f"{base}.jpg"))  # fmt: skip
        keys.append(f"{base}.mp4")
    await ctx.report(98, "saving clips")
    await ctx.library.add_clips(job.project_id, clips, replace=True)
    return JobOutcome(output_keys=tuple(keys), duration_seconds=length)
