"""Speech for pipelines through the TTS service (editai.tts.v1.TtsService.Synthesize)."""

from __future__ import annotations

import grpc

from editai.tts.v1 import tts_pb2, tts_pb2_grpc
from editai_common.errors import Unavailable, details_from_rpc_error
from services.render.jobs import PipelineError
from services.render.pipelines.context import CharacterTiming, SpeechResult, WordTiming

_PROVIDERS = {
    "": tts_pb2.PROVIDER_UNSPECIFIED,
    "elevenlabs": tts_pb2.PROVIDER_ELEVENLABS,
    "local": tts_pb2.PROVIDER_LOCAL,
}
PROVIDER_NAMES = frozenset(_PROVIDERS)


class GrpcSpeech:
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = tts_pb2_grpc.TtsServiceStub(channel)

    async def synthesize(
        self,
        text: str,
        *,
        voice_id: str = "",
        model_id: str = "",
        provider: str = "",
        remove_silence: bool = False,
        min_silence_duration: float | None = None,
        silence_padding: float | None = None,
        time_limit: float = 120.0,
    ) -> SpeechResult:
        trimming = tts_pb2.SilenceTrimming(enabled=remove_silence)
        if min_silence_duration:
            trimming.min_silence_duration = min_silence_duration
        if silence_padding:
            trimming.silence_padding = silence_padding
        request = tts_pb2.SynthesizeRequest(
            text=text,
            voice_id=voice_id,
            model_id=model_id,
            provider=_PROVIDERS.get(provider, tts_pb2.PROVIDER_UNSPECIFIED),
            silence_trimming=trimming,
        )
        try:
            reply = await self._stub.Synthesize(request, timeout=max(1.0, time_limit))
        except grpc.aio.AioRpcError as rpc_error:
            details = details_from_rpc_error(rpc_error)
            if details.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.UNIMPLEMENTED):
                message = f"Speech synthesis is unavailable: {details.message}"
                raise Unavailable(message, reason="TTS_UNAVAILABLE") from None
            message = f"Speech synthesis failed: {details.message}"
            raise PipelineError(message, reason=details.reason or "TTS_FAILED") from None
        return SpeechResult(
            audio_key=reply.audio_key,
            content_type=reply.content_type,
            duration_seconds=reply.duration_seconds,
            characters=tuple(CharacterTiming(c.character, c.start_seconds, c.end_seconds) for c in reply.characters),
            words=tuple(
                WordTiming(w.word, w.start_seconds, w.end_seconds, w.char_start, w.char_end) for w in reply.words
            ),
            cache_hit=reply.cache_hit,
        )
