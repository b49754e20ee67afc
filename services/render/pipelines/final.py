"""RenderFinalClip, first version: the clip's raw video as a plain 1080x1920 export under the
preset's name (the media pipeline adds voiceover, subtitles, filters and loudness)."""

from __future__ import annotations

from editai_common.ffmpeg import probe_media
from services.render.jobs import JobOutcome, PipelineError
from services.render.pipelines.context import JobContext
from services.render.pipelines.vertical import transcode_vertical_window
from services.render.records import ClipStatus


async def render_final_clip(ctx: JobContext) -> JobOutcome:
    job = ctx.job
    if job.clip_id is None:
        raise PipelineError("RenderFinalClip needs a clip.", reason="CLIP_REQUIRED")
    clip = await ctx.library.clip(job.clip_id)
    if not clip.raw_video_key:
        raise PipelineError("The clip has no raw video yet.", reason="CLIP_NOT_READY")
    await ctx.library.set_clip_status(clip.id, ClipStatus.PROCESSING)
    source = ctx.media.local_path(clip.raw_video_key)
    info = await probe_media(source)
    preset = str(job.params.get("preset_name", "generic"))
    key = f"clips/{clip.id}/final-{job.fencing_token}.mp4"
    async with ctx.media.temp_path(key) as out:
        await transcode_vertical_window(
            source, out, start=0.0, duration=info.duration_seconds, with_audio=info.has_audio,
            time_limit=ctx.time_remaining(), on_progress=ctx.stage(5, 95, f"rendering {preset}"),
        )  # fmt: skip
    size = await ctx.media.size(key)
    await ctx.library.set_clip_media(clip.id, final_video_key=key, duration_seconds=info.duration_seconds)
    await ctx.library.record_export(clip.id, preset=preset, output_key=key, size_bytes=size)
    await ctx.library.set_clip_status(clip.id, ClipStatus.COMPLETED)
    return JobOutcome(output_keys=(key,), duration_seconds=info.duration_seconds)
