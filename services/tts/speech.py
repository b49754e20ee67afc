"""What a speech provider is to the domain: the `SpeechProvider` protocol and the
values crossing it. ElevenLabs and espeak-ng implement it in `providers/`."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from services.tts.timings import CharacterTiming


class ProviderName(enum.StrEnum):
    ELEVENLABS = "elevenlabs"
    LOCAL = "local"


@dataclass(frozen=True)
class VoiceSettings:
    """ElevenLabs voice settings with the product's defaults; local speech uses `speed`."""

    stability: float = 0.57
    similarity_boost: float = 0.75
    style: float = 0.22
    use_speaker_boost: bool = True
    speed: float = 1.0

    def as_json(self) -> dict[str, float | bool]:
        return {
            "stability": self.stability,
            "similarity_boost": self.similarity_boost,
            "style": self.style,
            "use_speaker_boost": self.use_speaker_boost,
            "speed": self.speed,
        }


@dataclass(frozen=True)
class SpeechRequest:
    """What a provider is asked to say; voice and model are resolved (never empty)."""

    text: str
    voice_id: str
    model_id: str
    voice_settings: VoiceSettings


@dataclass(frozen=True)
class SpeechAudio:
    """Encoded audio as the provider produced it, with per-character timings."""

    audio: bytes
    extension: str  # "mp3" or "wav"
    content_type: str
    sample_rate: int
    characters: tuple[CharacterTiming, ...]
    # Known exactly for PCM; None when it must be measured from the encoded audio.
    duration_seconds: float | None = None
    # The provider's canonical id of the voice used, when it differs from the one asked for.
    voice_id: str | None = None


@dataclass(frozen=True)
class VoiceInfo:
    voice_id: str
    name: str
    provider: ProviderName
    language: str = ""
    category: str = ""
    preview_url: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)


class SpeechProvider(Protocol):
    """A text-to-speech engine. `deadline` is absolute, in `time.monotonic()` seconds."""

    name: ProviderName
    default_voice_id: str
    default_model_id: str

    async def synthesize(self, request: SpeechRequest, *, deadline: float) -> SpeechAudio: ...

    async def list_voices(self, *, deadline: float) -> list[VoiceInfo]: ...

    async def close(self) -> None: ...
