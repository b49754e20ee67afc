"""tts settings from the environment, and the key ring that decides which key to use."""

from __future__ import annotations

import pytest

from editai_common.settings import ConfigError
from services.tts.config import Settings
from services.tts.providers.elevenlabs import KeyRing

BASE = {"EDITAI_DATABASE_URL": "postgresql://x/y", "EDITAI_REDIS_URL": "redis://x"}


def test_without_keys_the_local_engine_is_the_default() -> None:
    settings = Settings.from_env(BASE)
    assert not settings.elevenlabs_enabled
    assert settings.elevenlabs.base_url == "https://api.elevenlabs.io"
    assert settings.elevenlabs.model_id == "eleven_flash_v2_5"
    assert settings.cache_max_bytes == 512 * 1024 * 1024


def test_keys_are_split_trimmed_and_never_shown_in_repr() -> None:
    settings = Settings.from_env({**BASE, "EDITAI_ELEVENLABS_API_KEYS": " sk-one-secret , ,sk-two-secret "})
    assert settings.elevenlabs_enabled
    assert settings.elevenlabs.api_keys == ("sk-one-secret", "sk-two-secret")
    assert "secret" not in repr(settings)


def test_a_base_url_without_scheme_is_refused_with_its_name() -> None:
    with pytest.raises(ConfigError, match="EDITAI_ELEVENLABS_BASE_URL"):
        Settings.from_env({**BASE, "EDITAI_ELEVENLABS_BASE_URL": "api.elevenlabs.io"})


def test_a_refused_key_waits_behind_the_others_until_its_cooldown_ends() -> None:
    now = [0.0]
    ring = KeyRing(("a", "b", "c"), cooldown_seconds=60, clock=lambda: now[0])

    ring.set_aside(0)
    assert [key for _, key in ring.candidates()] == ["b", "c", "a"]
    ring.set_aside(1)
    assert [key for _, key in ring.candidates()] == ["c", "a", "b"]  # soonest back first
    now[0] = 61
    assert [key for _, key in ring.candidates()] == ["a", "b", "c"]
