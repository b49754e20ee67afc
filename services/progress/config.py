"""Settings of the progress service, read once from EDITAI_* at start.

EDITAI_PROGRESS_PORT                 gRPC port (50053)
EDITAI_PROGRESS_FLUSH_INTERVAL_MS    write-behind interval for non-terminal progress (100; at most 250,
                                     the durability promise)
EDITAI_PROGRESS_DB_TIMEOUT_MS        how long one Postgres call may wait for a connection (1000)
EDITAI_PROGRESS_HOT_TTL_SECONDS      how long an untouched job stays in Redis (604800 = 7 days)
EDITAI_PROGRESS_PROBE_INTERVAL_MS    how often readiness probes Postgres (1000)
EDITAI_PROGRESS_DB_POOL_SIZE         Postgres connections per process (4)
EDITAI_PROGRESS_READ_CACHE_TTL_MS    how long this process answers a running job's reads from memory when
                                     no change arrives (1000; 0 turns the in-process read cache off)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from editai_common.settings import CommonSettings, ConfigError, env_int, service_port

MAX_FLUSH_INTERVAL_MS = 250


@dataclass(frozen=True)
class Settings:
    common: CommonSettings
    port: int
    flush_interval_ms: int
    db_timeout_ms: int
    hot_ttl_seconds: int
    probe_interval_ms: int
    db_pool_size: int
    read_cache_ttl_ms: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        flush = env_int("EDITAI_PROGRESS_FLUSH_INTERVAL_MS", 100, env, minimum=1)
        if flush > MAX_FLUSH_INTERVAL_MS:
            raise ConfigError(
                f"EDITAI_PROGRESS_FLUSH_INTERVAL_MS={flush} breaks the durability promise; "
                f"use at most {MAX_FLUSH_INTERVAL_MS}."
            )
        return cls(
            common=CommonSettings.from_env(env),
            port=service_port("progress", env),
            flush_interval_ms=flush,
            db_timeout_ms=env_int("EDITAI_PROGRESS_DB_TIMEOUT_MS", 1000, env, minimum=50),
            hot_ttl_seconds=env_int("EDITAI_PROGRESS_HOT_TTL_SECONDS", 7 * 24 * 3600, env, minimum=60),
            probe_interval_ms=env_int("EDITAI_PROGRESS_PROBE_INTERVAL_MS", 1000, env, minimum=50),
            db_pool_size=env_int("EDITAI_PROGRESS_DB_POOL_SIZE", 4, env, minimum=1),
            read_cache_ttl_ms=env_int("EDITAI_PROGRESS_READ_CACHE_TTL_MS", 1000, env, minimum=0),
        )
