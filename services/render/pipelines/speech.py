"""SynthesizeSpeech: text to speech through the TTS service; the audio key is the job's output."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import PurePosixPath

from services.render.jobs import JobOutcome
from services.render.pipelines.context import JobContext


async def synthesize_speech(ctx: JobContext) -> JobOutcome:
    params = ctx.job.params
    await ctx.report(5, "synthesizing speech")
    result = await ctx.speech.synthesize(
        str(params["text"]),
        voice_id=str(params.get("voice_id", "")),
        model_id=str(params.get("model_id", "")),
        provider=str(params.get("provider", "")),
        remove_silence=bool(params.get("remove_silence", False)),
        min_silence_duration=params.get("min_silence_duration"),
        silence_padding=params.get("silence_padding"),
        time_limit=ctx.time_remaining(),
    )
    await ctx.report(95, "storing audio")
    # The TTS cache evicts least-recently-used audio; the job's download must not vanish with it.
    suffix = PurePosixPath(result.audio_key).suffix
    audio_key = f"jobs/{ctx.job.id}/{ctx.job.fencing_token}/speech{suffix}"
    await ctx.media.copy(result.audio_key, audio_key)
    return JobOutcome(
        output_keys=(audio_key,),
        duration_seconds=result.duration_seconds,
        extra={
            "content_type": result.content_type,
            "cache_hit": result.cache_hit,
            "words": [asdict(w) for w in result.words],
        },
    )
