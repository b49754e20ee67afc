"""Input rules of Synthesize: bad fields are named, all at once."""

from __future__ import annotations

import pytest

from editai_common.errors import InvalidArgument
from services.tts.speech import ProviderName
from services.tts.validation import provider_choice, synthesis_request


def _fields(error: pytest.ExceptionInfo[InvalidArgument]) -> set[str]:
    return {v.field for v in error.value.violations}


def test_text_is_stripped() -> None:
    request = synthesis_request(text="  hello  ")
    assert request.text == "hello"
    assert request.trimming is None


@pytest.mark.parametrize("text", ["", "   \n", "x" * 5001])
def test_empty_or_too_long_text_names_text(text: str) -> None:
    with pytest.raises(InvalidArgument) as error:
        synthesis_request(text=text)
    assert _fields(error) == {"text"}


def test_five_thousand_characters_are_allowed() -> None:
    assert len(synthesis_request(text="y" * 5000).text) == 5000


def test_unknown_provider_names_provider() -> None:
    with pytest.raises(InvalidArgument) as error:
        synthesis_request(text="hi", provider="PROVIDER_7")
    assert _fields(error) == {"provider"}
    with pytest.raises(InvalidArgument):
        provider_choice("nope")
    assert provider_choice("local") is ProviderName.LOCAL


def test_trimming_values_out_of_range_name_each_field() -> None:
    with pytest.raises(InvalidArgument) as error:
        synthesis_request(text="hi", remove_silence=True, min_silence_duration=0.05, silence_padding=0.5)
    assert _fields(error) == {"silence_trimming.min_silence_duration", "silence_trimming.silence_padding"}


def test_voice_settings_out_of_range_are_named() -> None:
    with pytest.raises(InvalidArgument) as error:
        synthesis_request(text="hi", voice_settings={"stability": 1.5, "speed": 2.0, "style": float("nan")})
    assert _fields(error) == {"voice_settings.stability", "voice_settings.speed", "voice_settings.style"}


def test_unset_voice_settings_take_the_product_defaults() -> None:
    settings = synthesis_request(text="hi", voice_settings={"speed": 1.1}).voice_settings
    assert (settings.stability, settings.similarity_boost, settings.style, settings.use_speaker_boost) == (
        0.57,
        0.75,
        0.22,
        True,
    )
    assert settings.speed == 1.1


def test_trimming_defaults() -> None:
    trimming = synthesis_request(text="hi", remove_silence=True).trimming
    assert trimming is not None and (trimming.min_silence, trimming.padding) == (0.3, 0.08)
