"""What each job-starting RPC asks for: validated into a NewJob (+ work deferred until the project is free)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from editai.render.v1 import render_pb2
from editai_common.errors import FailedPrecondition, NotFound
from editai_common.ffmpeg import probe_media
from editai_common.media_store import LocalMediaStore
from services.render import validation
from services.render.convert import SELECTION_MODE
from services.render.jobs import JobType, NewJob
from services.render.ports import LibraryStore
from services.render.scheduler import Prepare
from services.render.validation import Violations


@dataclass(frozen=True)
class JobRequest:
    new: NewJob
    prepare: Prepare | None = None


@dataclass
class JobRequests:
    library: LibraryStore
    media: LocalMediaStore

    async def _probe_video(self, field: str, key: str) -> dict[str, Any]:
        if not await self.media.exists(key):
            raise NotFound(f"Media {key} does not exist.", reason="MEDIA_NOT_FOUND")
        info = await probe_media(self.media.local_path(key))  # not media: INVALID_ARGUMENT UNSUPPORTED_MEDIA
        if not info.has_video:
            v = Violations()
            v.add(field, "the file has no video stream")
            v.raise_if_any()
        return {"source_duration": info.duration_seconds, "source_has_audio": info.has_audio}

    async def _require_media(self, field: str, key: str) -> None:
        if key and not await self.media.exists(key):
            raise NotFound(f"Media {key} ({field}) does not exist.", reason="MEDIA_NOT_FOUND")

    def generate_raw_clips(self, profile: str, r: render_pb2.GenerateRawClipsRequest) -> JobRequest:
        v = Violations()
        v.request_id(r.request_id)
        v.require("project_id", r.project_id)
        v.media_key("video_key", r.video_key)
        count = validation.variant_count(v, r.variant_count, default=3)
        v.raise_if_any()

        async def prepare() -> Mapping[str, Any]:
            return await self._probe_video("video_key", r.video_key)

        params = {"video_key": r.video_key, "variant_count": count}
        new = NewJob(profile, JobType.GENERATE_RAW_CLIPS, project_id=r.project_id, request_id=r.request_id or None,
                     params=params)  # fmt: skip
        return JobRequest(new, prepare)

    def generate_from_segments(self, profile: str, r: render_pb2.GenerateFromSegmentsRequest) -> JobRequest:
        v = Violations()
        v.request_id(r.request_id)
        v.require("project_id", r.project_id)
        count = validation.variant_count(v, r.variant_count, default=3)
        target = validation.duration(v, "target_duration", r.target_duration, default=30.0)
        if r.selection_mode not in SELECTION_MODE:
            v.add("selection_mode", "unknown selection mode")
        v.raise_if_any()

        async def prepare() -> Mapping[str, Any]:
            segments = await self.library.project_segments(profile, r.project_id)
            if not segments:
                raise FailedPrecondition("The project has no segments; add some first.", reason="NO_SEGMENTS")
            return {"segment_ids": [s.id for s in segments]}

        params = {"variant_count": count, "selection_mode": SELECTION_MODE[r.selection_mode],
                  "target_duration": target, "mute_source_voice": r.mute_source_voice}  # fmt: skip
        new = NewJob(profile, JobType.GENERATE_FROM_SEGMENTS, project_id=r.project_id,
                     request_id=r.request_id or None, params=params)  # fmt: skip
        return JobRequest(new, prepare)

    async def render_final_clip(self, profile: str, r: render_pb2.RenderFinalClipRequest) -> JobRequest:
        v = Violations()
        v.request_id(r.request_id)
        v.require("clip_id", r.clip_id)
        preset = validation.preset(v, r.preset_name)
        filters = validation.filters(v, r.filters)
        style = validation.subtitle_settings(v, "subtitle_settings", r.subtitle_settings)
        v.raise_if_any()
        clip = await self.library.clip(profile, r.clip_id)
        if clip is None:
            raise NotFound(f"Clip {r.clip_id} does not exist.", reason="CLIP_NOT_FOUND")
        params = {"preset_name": preset, "filters": filters,
                  "subtitle_settings": style if r.HasField("subtitle_settings") else None,
                  "elevenlabs_model": r.elevenlabs_model, "voice_id": r.voice_id}  # fmt: skip
        new = NewJob(profile, JobType.RENDER_FINAL_CLIP, project_id=clip.project_id, clip_id=clip.id,
                     request_id=r.request_id or None, params=params)  # fmt: skip
        return JobRequest(new)

    def process_video(self, profile: str, r: render_pb2.ProcessVideoRequest) -> JobRequest:
        v = Violations()
        v.request_id(r.request_id)
        v.media_key("video_key", r.video_key)
        v.media_key("audio_key", r.audio_key, required=False)
        v.media_key("srt_key", r.srt_key, required=False)
        count = validation.variant_count(v, r.variant_count, default=1)
        target = validation.duration(v, "target_duration", r.target_duration, default=20.0)
        style = validation.subtitle_settings(v, "subtitle_settings", r.subtitle_settings)
        if len(r.output_name) > 200:
            v.add("output_name", "must be at most 200 characters")
        if len(r.tts_text) > validation.MAX_TEXT:
            v.add("tts_text", f"must be at most {validation.MAX_TEXT} characters")
        v.raise_if_any()

        async def prepare() -> Mapping[str, Any]:
            await self._require_media("audio_key", r.audio_key)
            await self._require_media("srt_key", r.srt_key)
            return await self._probe_video("video_key", r.video_key)

        params = {"video_key": r.video_key, "audio_key": r.audio_key, "srt_key": r.srt_key,
                  "output_name": r.output_name, "target_duration": target, "subtitle_settings": style,
                  "variant_count": count, "generate_audio": r.generate_audio,
                  "mute_source_voice": r.mute_source_voice, "tts_text": r.tts_text}  # fmt: skip
        return JobRequest(NewJob(profile, JobType.PROCESS_VIDEO, request_id=r.request_id or None, params=params),
                          prepare)  # fmt: skip

    def synthesize_speech(self, profile: str, r: render_pb2.SynthesizeSpeechRequest) -> JobRequest:
        v = Violations()
        v.request_id(r.request_id)
        text = validation.speech_text(v, "text", r.text)
        if r.provider not in validation.PROVIDERS:
            v.add("provider", "must be elevenlabs, local or empty")
        if r.min_silence_duration:
            v.number("min_silence_duration", r.min_silence_duration, 0.1, 2.0)
        if r.silence_padding:
            v.number("silence_padding", r.silence_padding, 0.02, 0.3)
        v.raise_if_any()
        params = {"text": text, "voice_id": r.voice_id, "provider": r.provider, "remove_silence": r.remove_silence,
                  "min_silence_duration": r.min_silence_duration or None,
                  "silence_padding": r.silence_padding or None, "model_id": r.model_id}  # fmt: skip
        return JobRequest(NewJob(profile, JobType.SYNTHESIZE_SPEECH, request_id=r.request_id or None, params=params))
