"""ProcessVideo, first version: `variant_count` plain vertical cuts of the upload, each up to
the target duration (the media pipeline adds audio, SRT and styling)."""

from __future__ import annotations

from editai_common.ffmpeg import probe_media
from services.render.jobs import JobOutcome, PipelineError
from services.render.pipelines.context import JobContext
from services.render.pipelines.vertical import transcode_vertical_window


async def process_video(ctx: JobContext) -> JobOutcome:
    job = ctx.job
    source = ctx.media.local_path(str(job.params["video_key"]))
    await ctx.report(1, "probing video")
    info = await probe_media(source)
    if not info.has_video:
        raise PipelineError("The upload has no video stream.", reason="NO_VIDEO_STREAM")
    count = int(job.params.get("variant_count", 1))
    length = min(float(job.params.get("target_duration", 20.0)), info.duration_seconds)
    span = max(info.duration_seconds - length, 0.0)
    keys: list[str] = []
    share = 95.0 / count
    for index in range(count):
        start = span * index / max(count - 1, 1) if count > 1 else 0.0
        key = f"jobs/{job.id}/{job.fencing_token}/output-{index + 1}.mp4"
        begin = 2 + share * index
        async with ctx.media.temp_path(key) as out:
            await transcode_vertical_window(
                source, out, start=start, duration=length, with_audio=info.has_audio,
                time_limit=ctx.time_remaining(),
                on_progress=ctx.stage(begin, begin + share, f"rendering output {index + 1} of {count}"),
            )  # fmt: skip
        keys.append(key)
    return JobOutcome(output_keys=tuple(keys), duration_seconds=length)
