"""Errors of the tts service, as the caller sees them.

    ServiceError (editai_common.errors)
    ├── InvalidArgument
    │   └── UpstreamRejectedInput     INVALID_ARGUMENT / ELEVENLABS_REJECTED_INPUT (upstream 400/422)
    ├── NotFound
    │   └── VoiceNotFound             NOT_FOUND / VOICE_NOT_FOUND
    ├── FailedPrecondition
    │   ├── ProviderNotConfigured     FAILED_PRECONDITION / ELEVENLABS_NOT_CONFIGURED (no API key)
    │   └── UpstreamUnauthorized      FAILED_PRECONDITION / ELEVENLABS_UNAUTHORIZED (every key got 401)
    ├── ResourceExhausted
    │   └── UpstreamQuotaExceeded     RESOURCE_EXHAUSTED / ELEVENLABS_QUOTA_EXCEEDED (402, quota_exceeded)
    └── Unavailable
        ├── UpstreamUnavailable       UNAVAILABLE / ELEVENLABS_UNAVAILABLE (retries or deadline used up)
        └── LocalEngineFailed         UNAVAILABLE / LOCAL_ENGINE_FAILED (espeak-ng or ffmpeg failed)

The gRPC interceptor maps each to a google.rpc.Status in one place (editai_common);
messages name what went wrong and never carry an API key.
"""

from __future__ import annotations

from editai_common.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Resource,
    ResourceExhausted,
    Unavailable,
)


class UpstreamRejectedInput(InvalidArgument):
    """ElevenLabs refused the request body (text, model or voice settings)."""

    default_reason = "ELEVENLABS_REJECTED_INPUT"


class VoiceNotFound(NotFound):
    """The provider has no voice with that id."""

    default_reason = "VOICE_NOT_FOUND"

    def __init__(self, provider: str, voice_id: str) -> None:
        super().__init__(
            f"The {provider} provider has no voice {voice_id!r}; ListVoices shows the available ones.",
            metadata={"provider": provider, "voice_id": voice_id},
            resources=(Resource("editai.tts.v1.Voice", voice_id, description=f"{provider} voice"),),
        )


class ProviderNotConfigured(FailedPrecondition):
    """ElevenLabs was asked for but no API key is configured."""

    default_reason = "ELEVENLABS_NOT_CONFIGURED"


class UpstreamUnauthorized(FailedPrecondition):
    """Every configured ElevenLabs key was refused (401); an operator must fix the keys."""

    default_reason = "ELEVENLABS_UNAUTHORIZED"


class UpstreamQuotaExceeded(ResourceExhausted):
    """Every configured ElevenLabs key is out of quota or credits (402 / quota_exceeded)."""

    default_reason = "ELEVENLABS_QUOTA_EXCEEDED"


class UpstreamUnavailable(Unavailable):
    """ElevenLabs kept failing (connection errors, timeouts, 429, 5xx) until retries ran out."""

    default_reason = "ELEVENLABS_UNAVAILABLE"


class LocalEngineFailed(Unavailable):
    """The local engine (espeak-ng) or the audio tooling around it failed."""

    default_reason = "LOCAL_ENGINE_FAILED"
