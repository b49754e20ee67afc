"""Pipelines by job type: `PIPELINES[job.type](ctx) -> JobOutcome` (see `context.py`).

`ctx.job.params` holds what the job-starting RPC asked for (validated, defaults filled):

- GENERATE_RAW_CLIPS:     video_key, variant_count, source_video_id (the probed upload)
- GENERATE_FROM_SEGMENTS: variant_count, selection_mode (random|sequential|weighted),
                          target_duration, mute_source_voice, segment_ids (order at request time)
- RENDER_FINAL_CLIP:      preset_name, filters {enable_denoise, denoise_strength, ...},
                          subtitle_settings (camelCase dict or null: use the clip's), elevenlabs_model, voice_id
- PROCESS_VIDEO:          video_key, audio_key, srt_key, output_name, target_duration,
                          subtitle_settings (camelCase dict), variant_count, generate_audio,
                          mute_source_voice, tts_text
- SYNTHESIZE_SPEECH:      text, voice_id, provider, remove_silence, min_silence_duration,
                          silence_padding, model_id
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from services.render.jobs import JobOutcome, JobType
from services.render.pipelines import final, process_video, raw_clips, segments, speech
from services.render.pipelines.context import JobContext

Pipeline = Callable[[JobContext], Awaitable[JobOutcome]]

PIPELINES: dict[JobType, Pipeline] = {
    JobType.GENERATE_RAW_CLIPS: raw_clips.generate_raw_clips,
    JobType.GENERATE_FROM_SEGMENTS: segments.generate_from_segments,
    JobType.RENDER_FINAL_CLIP: final.render_final_clip,
    JobType.PROCESS_VIDEO: process_video.process_video,
    JobType.SYNTHESIZE_SPEECH: speech.synthesize_speech,
}
