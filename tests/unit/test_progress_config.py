"""The progress service's settings: defaults, and a flush interval that would break the promise is refused."""

from __future__ import annotations

import pytest

from editai_common.settings import ConfigError
from services.progress.config import Settings

REQUIRED = {"EDITAI_DATABASE_URL": "postgresql://db/editai", "EDITAI_REDIS_URL": "redis://cache:6379/0"}


def test_defaults_keep_the_durability_promise_and_the_read_cache_on() -> None:
    settings = Settings.from_env(REQUIRED)

    assert (settings.port, settings.flush_interval_ms, settings.read_cache_ttl_ms) == (50053, 100, 1000)


def test_a_flush_interval_beyond_250_ms_is_refused_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match="EDITAI_PROGRESS_FLUSH_INTERVAL_MS=400 breaks the durability promise"):
        Settings.from_env({**REQUIRED, "EDITAI_PROGRESS_FLUSH_INTERVAL_MS": "400"})


def test_the_read_cache_can_be_turned_off() -> None:
    assert Settings.from_env({**REQUIRED, "EDITAI_PROGRESS_READ_CACHE_TTL_MS": "0"}).read_cache_ttl_ms == 0
