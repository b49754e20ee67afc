"""editai.tts.v1.TtsService: proto in → domain call → proto out. Errors are domain
exceptions, mapped to google.rpc.Status by the shared interceptor."""

from __future__ import annotations

import time

import grpc

from editai.tts.v1 import tts_pb2, tts_pb2_grpc
from services.tts.records import SpeechRecord
from services.tts.speech import ProviderName
from services.tts.synthesis import Synthesizer
from services.tts.validation import provider_choice, synthesis_request

_PROVIDER_FROM_PROTO = {
    tts_pb2.PROVIDER_ELEVENLABS: ProviderName.ELEVENLABS,
    tts_pb2.PROVIDER_LOCAL: ProviderName.LOCAL,
}
_PROVIDER_TO_PROTO = {name: number for number, name in _PROVIDER_FROM_PROTO.items()}
_VOICE_SETTING_FIELDS = ("stability", "similarity_boost", "style", "use_speaker_boost", "speed")


def _provider_name(number: int) -> str | None:
    if number == tts_pb2.PROVIDER_UNSPECIFIED:
        return None
    known = _PROVIDER_FROM_PROTO.get(number)  # type: ignore[call-overload]
    return known.value if known is not None else f"PROVIDER_{number}"


def _reply(record: SpeechRecord, *, cache_hit: bool) -> tts_pb2.SynthesizeResponse:
    reply = tts_pb2.SynthesizeResponse(
        audio_key=record.audio_key,
        content_type=record.content_type,
        duration_seconds=record.duration_seconds,
        sample_rate=record.sample_rate,
        characters=[
            tts_pb2.CharacterTiming(character=c.character, start_seconds=c.start, end_seconds=c.end)
            for c in record.characters
        ],
        words=[
            tts_pb2.WordTiming(
                word=w.word, start_seconds=w.start, end_seconds=w.end, char_start=w.char_start, char_end=w.char_end
            )
            for w in record.words
        ],
        provider=_PROVIDER_TO_PROTO[record.provider],
        model_id=record.model_id,
        voice_id=record.voice_id,
        cache_hit=cache_hit,
        size_bytes=record.size_bytes,
    )
    if record.trim_stats is not None:
        stats = record.trim_stats
        reply.trim_stats.CopyFrom(
            tts_pb2.TrimStats(
                original_duration_seconds=stats.original_duration,
                new_duration_seconds=stats.new_duration,
                removed_seconds=stats.removed_seconds,
                regions_kept=stats.regions_kept,
            )
        )
    return reply


class TtsServicer(tts_pb2_grpc.TtsServiceServicer):
    def __init__(self, synthesizer: Synthesizer, *, default_timeout_seconds: float) -> None:
        self._synthesizer = synthesizer
        self._default_timeout = default_timeout_seconds

    def _deadline(self, context: grpc.aio.ServicerContext) -> float:
        remaining = context.time_remaining()
        budget = self._default_timeout if remaining is None else min(remaining, self._default_timeout)
        return time.monotonic() + budget

    async def Synthesize(
        self, request: tts_pb2.SynthesizeRequest, context: grpc.aio.ServicerContext
    ) -> tts_pb2.SynthesizeResponse:
        settings = request.voice_settings
        trimming = request.silence_trimming
        validated = synthesis_request(
            text=request.text,
            voice_id=request.voice_id,
            model_id=request.model_id,
            provider=_provider_name(request.provider),
            voice_settings={f: getattr(settings, f) for f in _VOICE_SETTING_FIELDS if settings.HasField(f)},
            remove_silence=trimming.enabled,
            min_silence_duration=trimming.min_silence_duration if trimming.HasField("min_silence_duration") else None,
            silence_padding=trimming.silence_padding if trimming.HasField("silence_padding") else None,
        )
        result = await self._synthesizer.synthesize(validated, deadline=self._deadline(context))
        return _reply(result.record, cache_hit=result.cache_hit)

    async def ListVoices(
        self, request: tts_pb2.ListVoicesRequest, context: grpc.aio.ServicerContext
    ) -> tts_pb2.ListVoicesResponse:
        provider = provider_choice(_provider_name(request.provider))
        voices = await self._synthesizer.list_voices(provider, deadline=self._deadline(context))
        return tts_pb2.ListVoicesResponse(
            voices=[
                tts_pb2.Voice(
                    voice_id=v.voice_id,
                    name=v.name,
                    provider=_PROVIDER_TO_PROTO[v.provider],
                    language=v.language,
                    category=v.category,
                    preview_url=v.preview_url,
                    labels=dict(v.labels),
                )
                for v in voices
            ]
        )
