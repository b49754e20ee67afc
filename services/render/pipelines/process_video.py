"""ProcessVideo (REST `/jobs`): an upload + optional audio + optional SRT + style →
`variant_count` finished vertical videos with sound and burned subtitles.

The length of each output is the audio's (given, or synthesised from `tts_text` /
the SRT's text when `generate_audio`), else `target_duration`. Variants come from
different scored windows of the upload. Without a voiceover the source's own sound
is the programme; with one, the source plays quietly underneath. `mute_source_voice`
ducks the speech found in the source audio either way.
"""

from __future__ import annotations

import asyncio

from services.render.jobs import JobOutcome, PipelineError
from services.render.media.final_render import FinalRender, fit_video, render_final
from services.render.media.normalize import choose_fit
from services.render.media.phrases import Phrase, build_phrases
from services.render.media.presets import preset_named
from services.render.media.probing import display_rotation
from services.render.media.scoring import analyse_frames, pick_windows
from services.render.media.segments import SourceRange
from services.render.media.subtitle_style import SubtitleStyle
from services.render.media.subtitles import sanitize_srt, shift_phrases, write_ass
from services.render.pipelines.context import JobContext
from services.render.pipelines.final import words_of
from services.render.pipelines.sources import ffmpeg_step, key_safe, probe_audio, probe_video, speech_of

DEFAULT_TARGET_SECONDS = 20.0
# The source's sound under a voiceover: about −14 dB, present but not competing.
BED_GAIN = 0.2


async def process_video(ctx: JobContext) -> JobOutcome:
    job = ctx.job
    params = job.params
    style = SubtitleStyle.from_settings(params.get("subtitle_settings") or {})
    count = int(params.get("variant_count") or 1)
    target = float(params.get("target_duration") or DEFAULT_TARGET_SECONDS)
    mute = bool(params.get("mute_source_voice", False))
    name = key_safe(str(params.get("output_name") or ""))

    await ctx.report(1, "probing inputs")
    source = ctx.media.local_path(str(params["video_key"]))
    info = await probe_video(source)
    cues: list[Phrase] = []
    if params.get("srt_key"):
        srt_path = ctx.media.local_path(str(params["srt_key"]))
        if not await asyncio.to_thread(srt_path.is_file):
            raise PipelineError("The SRT file is missing from the media store.", reason="MEDIA_NOT_FOUND")
        srt_text = await asyncio.to_thread(srt_path.read_text, encoding="utf-8", errors="replace")
        cues = sanitize_srt(srt_text, field="srt")

    voiceover = None
    phrases = cues
    if params.get("audio_key"):
        voiceover = ctx.media.local_path(str(params["audio_key"]))
        duration = (await probe_audio(voiceover)).duration_seconds
    elif params.get("generate_audio"):
        text = str(params.get("tts_text") or "").strip() or " ".join(c.text.replace("\n", " ") for c in cues)
        if not text:
            raise PipelineError("generate_audio needs tts_text or an SRT to speak.", reason="NO_TTS_TEXT")
        await ctx.report(3, "synthesizing voiceover")
        speech = await ctx.speech.synthesize(text, remove_silence=True, time_limit=ctx.time_remaining())
        voiceover = ctx.media.local_path(speech.audio_key)
        duration = (await probe_audio(voiceover)).duration_seconds
        if not cues:
            phrases = build_phrases(words_of(speech), total_duration=duration)
    else:
        duration = min(target, info.duration_seconds)
    phrases = shift_phrases(phrases, limit=duration)
    subtitles = write_ass(ctx.workdir / "subtitles.ass", phrases, style) if phrases else None

    await ctx.report(10, "analysing video")
    speech_regions = await speech_of(ctx, source, info.duration_seconds, info.has_audio) if mute else ()
    with ffmpeg_step("analysing the video"):
        frames = await analyse_frames(
            source,
            ctx.workdir,
            time_limit=ctx.time_remaining(),
            duration=info.duration_seconds,
            on_progress=ctx.stage(10, 20, "analysing video"),
        )
    windows = pick_windows(frames, source_duration=info.duration_seconds, target_duration=duration, variant_count=count)
    preset = preset_named("generic")
    fit = choose_fit(info.width, info.height, await display_rotation(source, info), preset.width, preset.height)
    whole = SourceRange(source, 0.0, info.duration_seconds, has_audio=info.has_audio, speech=speech_regions)

    keys: list[str] = []
    share = 78.0 / count
    for index, window in enumerate(windows):
        start = SourceRange(
            source, window.start, info.duration_seconds, has_audio=info.has_audio, speech=speech_regions
        )
        render = FinalRender(
            pieces=fit_video([start], [whole], duration),
            duration=duration,
            preset=preset,
            voiceover=voiceover,
            subtitles=subtitles,
            source_gain=BED_GAIN if voiceover is not None and info.has_audio else 0.0,
            mute_source_speech=mute,
            fit=fit,
        )
        suffix = f"-{index + 1}" if count > 1 else ""
        key = f"jobs/{job.id}/{job.fencing_token}/{name}{suffix}.mp4"
        begin = 20 + share * index
        step = f"rendering output {index + 1} of {count}"
        with ffmpeg_step(step):
            await render_final(
                render,
                ctx.media,
                key,
                time_limit=ctx.time_remaining(),
                on_progress=ctx.stage(begin, begin + share, step),
            )
        keys.append(key)
    await ctx.report(99, "done")
    return JobOutcome(output_keys=tuple(keys), duration_seconds=duration)
