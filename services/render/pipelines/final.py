"""RenderFinalClip: the clip's raw video + a voiceover + styled subtitles → the export.

Steps, with the share of the progress bar each takes:

     0– 3  read the clip, validate preset, filters and subtitle style
     3–20  voiceover from `tts_text` through the TTS service (timings, silences trimmed)
    20–25  subtitles: the user's SRT (sanitised) or phrases from the TTS timings; ASS file
    25–97  final render (loudness measurement + one encode, see media/final_render.py)
    97–100 export row, clip completed

The video is fitted to the voiceover: trimmed when longer, extended with the
project's segments when shorter, looped as a last resort. A failure marks the clip
failed with a readable error before the job fails; a lost lease writes nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from typing import Any

from editai_common.errors import ServiceError
from services.render.jobs import JobOutcome, LeaseLost, PipelineError
from services.render.media.filters import VideoFilters
from services.render.media.final_render import FinalRender, fit_video, render_final
from services.render.media.normalize import choose_fit
from services.render.media.phrases import Phrase, TimedWord, build_phrases, words_from_characters
from services.render.media.presets import preset_named
from services.render.media.probing import display_rotation
from services.render.media.segments import SourceRange
from services.render.media.subtitle_style import SubtitleStyle
from services.render.media.subtitles import phrases_to_srt, sanitize_srt, shift_phrases, write_ass
from services.render.pipelines.context import JobContext, SpeechResult
from services.render.pipelines.sources import ffmpeg_step, probe_audio, probe_video, segment_ranges
from services.render.records import ClipStatus

_FILTER_FIELDS = {f.name for f in dataclasses.fields(VideoFilters)}


def filters_from_params(raw: Mapping[str, Any] | None) -> VideoFilters:
    """VideoFilters from the job's `filters` dict (unknown keys ignored)."""
    values = {k: v for k, v in (raw or {}).items() if k in _FILTER_FIELDS}
    return VideoFilters.from_request(**values)


def words_of(speech: SpeechResult) -> list[TimedWord]:
    if speech.words:
        return [TimedWord(w.word, w.start_seconds, w.end_seconds) for w in speech.words]
    return words_from_characters([(c.character, c.start_seconds, c.end_seconds) for c in speech.characters])


def timings_json(speech: SpeechResult) -> dict[str, Any]:
    return {
        "characters": [dataclasses.asdict(c) for c in speech.characters],
        "words": [dataclasses.asdict(w) for w in speech.words],
        "duration_seconds": speech.duration_seconds,
    }


async def render_final_clip(ctx: JobContext) -> JobOutcome:
    job = ctx.job
    if job.clip_id is None:
        raise PipelineError("RenderFinalClip needs a clip.", reason="CLIP_REQUIRED")
    clip_id = job.clip_id
    try:
        return await _render(ctx, clip_id)
    except (LeaseLost, asyncio.CancelledError):
        raise  # this attempt may no longer write; the job's owner settles the clip
    except (PipelineError, ServiceError) as error:
        message = error.message if isinstance(error, ServiceError) else str(error)
        await ctx.library.set_clip_status(clip_id, ClipStatus.FAILED, message)
        raise
    except Exception:
        # A bug: the clip must still not stay "processing"; details go to the log only.
        await ctx.library.set_clip_status(clip_id, ClipStatus.FAILED, "The render failed unexpectedly.")
        raise


async def _render(ctx: JobContext, clip_id: str) -> JobOutcome:
    job = ctx.job
    params = job.params
    clip = await ctx.library.clip(clip_id)
    content = await ctx.library.clip_content(clip_id)
    if not clip.raw_video_key:
        raise PipelineError("The clip has no raw video yet.", reason="CLIP_NOT_READY")
    # Validate everything the user chose before spending any time.
    preset = preset_named(str(params.get("preset_name") or ""))
    filters = filters_from_params(params.get("filters"))
    style = SubtitleStyle.from_settings(params.get("subtitle_settings") or content.subtitle_settings or {})
    user_cues = sanitize_srt(content.srt_content) if content.srt_content.strip() else []
    text = content.tts_text.strip() or " ".join(cue.text.replace("\n", " ") for cue in user_cues)
    if not text:
        raise PipelineError("The clip has no voiceover text (tts_text) to speak.", reason="NO_TTS_TEXT")
    raw = ctx.media.local_path(clip.raw_video_key)
    info = await probe_video(raw)
    await ctx.library.set_clip_status(clip_id, ClipStatus.PROCESSING)
    await ctx.report(3, "synthesizing voiceover")

    speech = await ctx.speech.synthesize(
        text,
        voice_id=str(params.get("voice_id") or ""),
        model_id=str(params.get("elevenlabs_model") or ""),
        remove_silence=True,
        time_limit=ctx.time_remaining(),
    )
    voiceover = ctx.media.local_path(speech.audio_key)
    duration = (await probe_audio(voiceover)).duration_seconds
    await ctx.report(20, "building subtitles")

    phrases: list[Phrase] = shift_phrases(user_cues, limit=duration) if user_cues else []
    if not user_cues:
        phrases = build_phrases(words_of(speech), total_duration=duration)
    subtitles = write_ass(ctx.workdir / "subtitles.ass", phrases, style) if phrases else None
    srt_key = f"clips/{clip_id}/subtitles-{job.fencing_token}.srt"
    async with ctx.media.writer(srt_key) as writer:
        await writer.write(phrases_to_srt(phrases).encode())

    extra: list[SourceRange] = []
    if duration > info.duration_seconds:
        # Longer voiceover: continue with the project's segments before looping.
        extra = await segment_ranges(ctx, await ctx.library.project_segments(clip.project_id))
    render = FinalRender(
        pieces=fit_video([SourceRange(raw, 0.0, info.duration_seconds, has_audio=info.has_audio)], extra, duration),
        duration=duration,
        preset=preset,
        voiceover=voiceover,
        subtitles=subtitles,
        filters=filters,
        fit=choose_fit(info.width, info.height, await display_rotation(raw, info), preset.width, preset.height),
    )
    output_key = f"clips/{clip_id}/final-{job.fencing_token}.mp4"
    await ctx.report(25, f"rendering {preset.name}")
    with ffmpeg_step("the final render"):
        await render_final(
            render, ctx.media, output_key, time_limit=ctx.time_remaining(), on_progress=ctx.stage(25, 97, "rendering")
        )

    await ctx.report(97, "saving export")
    size = await ctx.media.size(output_key)
    await ctx.library.set_clip_speech(clip_id, tts_audio_key=speech.audio_key, tts_timings=timings_json(speech))
    await ctx.library.set_clip_media(
        clip_id, final_video_key=output_key, srt_key=srt_key, audio_key=speech.audio_key, duration_seconds=duration
    )
    await ctx.library.record_export(clip_id, preset=preset.name, output_key=output_key, size_bytes=size)
    await ctx.library.set_clip_status(clip_id, ClipStatus.COMPLETED)
    return JobOutcome(output_keys=(output_key,), duration_seconds=duration, extra={"preset": preset.name})
