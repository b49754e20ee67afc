"""The input rules of Synthesize: every bad field is named, all at once."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from editai_common.errors import FieldViolation, invalid_fields
from services.tts.speech import ProviderName, VoiceSettings
from services.tts.trimming import TrimOptions

MAX_TEXT_CHARS = 5000
MAX_ID_CHARS = 128

# Inclusive ranges: ElevenLabs' own limits for voice settings, the product's for trimming.
VOICE_SETTING_RANGES: dict[str, tuple[float, float]] = {
    "stability": (0.0, 1.0),
    "similarity_boost": (0.0, 1.0),
    "style": (0.0, 1.0),
    "speed": (0.7, 1.2),
}
MIN_SILENCE_RANGE = (0.1, 2.0)
PADDING_RANGE = (0.02, 0.3)


@dataclass(frozen=True)
class SynthesisRequest:
    """A validated Synthesize call; empty voice/model mean the provider's defaults."""

    text: str
    voice_id: str
    model_id: str
    provider: ProviderName | None
    voice_settings: VoiceSettings
    trimming: TrimOptions | None


def provider_choice(provider: str | None) -> ProviderName | None:
    """None means the server's default; an unknown name is an InvalidArgument naming `provider`."""
    if provider is None:
        return None
    try:
        return ProviderName(provider)
    except ValueError:
        raise invalid_fields(
            [FieldViolation("provider", f"unknown provider {provider!r}; use elevenlabs or local")]
        ) from None


def _in_range(name: str, value: float, bounds: tuple[float, float], violations: list[FieldViolation]) -> None:
    low, high = bounds
    if not math.isfinite(value) or not low <= value <= high:
        violations.append(FieldViolation(name, f"must be between {low} and {high}, got {value}"))


def synthesis_request(
    *,
    text: str,
    voice_id: str = "",
    model_id: str = "",
    provider: str | None = None,
    voice_settings: Mapping[str, float | bool] | None = None,
    remove_silence: bool = False,
    min_silence_duration: float | None = None,
    silence_padding: float | None = None,
) -> SynthesisRequest:
    """Raises InvalidArgument naming each bad field; `voice_settings` holds only the fields set."""
    violations: list[FieldViolation] = []
    spoken = text.strip()
    if not spoken:
        violations.append(FieldViolation("text", "must not be empty (after stripping spaces)"))
    elif len(spoken) > MAX_TEXT_CHARS:
        violations.append(FieldViolation("text", f"must be at most {MAX_TEXT_CHARS} characters, got {len(spoken)}"))
    chosen: ProviderName | None = None
    if provider is not None:
        try:
            chosen = ProviderName(provider)
        except ValueError:
            violations.append(FieldViolation("provider", f"unknown provider {provider!r}; use elevenlabs or local"))
    for name, value in (("voice_id", voice_id), ("model_id", model_id)):
        if len(value) > MAX_ID_CHARS or any(ch.isspace() and ch != " " for ch in value):
            violations.append(FieldViolation(name, f"must be at most {MAX_ID_CHARS} characters on one line"))
    settings = dict(voice_settings or {})
    for name, bounds in VOICE_SETTING_RANGES.items():
        if name in settings:
            _in_range(f"voice_settings.{name}", float(settings[name]), bounds, violations)
    trimming: TrimOptions | None = None
    min_silence = TrimOptions.min_silence if min_silence_duration is None else min_silence_duration
    padding = TrimOptions.padding if silence_padding is None else silence_padding
    _in_range("silence_trimming.min_silence_duration", min_silence, MIN_SILENCE_RANGE, violations)
    _in_range("silence_trimming.silence_padding", padding, PADDING_RANGE, violations)
    if remove_silence:
        trimming = TrimOptions(min_silence=min_silence, padding=padding)
    if violations:
        raise invalid_fields(violations)
    return SynthesisRequest(
        text=spoken,
        voice_id=voice_id.strip(),
        model_id=model_id.strip(),
        provider=chosen,
        voice_settings=VoiceSettings(**settings),  # type: ignore[arg-type]
        trimming=trimming,
    )
