"""Settings of the render service, read once from EDITAI_* at start.

EDITAI_RENDER_PORT                   gRPC port (50051)
EDITAI_RENDER_WORKERS                jobs one process runs at a time (1; 0 = API only, no worker)
EDITAI_RENDER_LEASE_TTL_SECONDS      lease of a running attempt, renewed every third of it (15; at most 30)
EDITAI_RENDER_JOB_TIMEOUT_SECONDS    deadline of one job from its creation and of each attempt (3600)
EDITAI_RENDER_MAX_ATTEMPTS           attempts of an idempotent job whose worker died (2)
EDITAI_RENDER_REQUEUE_AFTER_SECONDS  a queued job not picked up for this long is delivered again (30)
EDITAI_RENDER_DB_POOL_SIZE           Postgres connections per process (10)
EDITAI_PROGRESS_ADDR / EDITAI_TTS_ADDR  where the progress and TTS services listen
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from editai_common.settings import CommonSettings, ConfigError, env_float, env_int, service_address, service_port

MAX_LEASE_TTL_SECONDS = 30.0


@dataclass(frozen=True)
class Settings:
    common: CommonSettings
    port: int
    workers: int
    lease_ttl_seconds: float
    job_timeout_seconds: float
    max_attempts: int
    requeue_after_seconds: float
    db_pool_size: int
    progress_address: str
    tts_address: str

    @property
    def work_dir(self) -> Path:
        """Where attempts keep their temporary directories (one per attempt, always removed)."""
        return self.common.data_dir / "render-work"

    @property
    def renew_interval_seconds(self) -> float:
        return self.lease_ttl_seconds / 3

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        lease = env_float("EDITAI_RENDER_LEASE_TTL_SECONDS", 15.0, env, minimum=0.5)
        if lease > MAX_LEASE_TTL_SECONDS:
            raise ConfigError(
                f"EDITAI_RENDER_LEASE_TTL_SECONDS={lease} is too long: a dead worker must free its project "
                f"within {MAX_LEASE_TTL_SECONDS:.0f} s."
            )
        return cls(
            common=CommonSettings.from_env(env),
            port=service_port("render", env),
            workers=env_int("EDITAI_RENDER_WORKERS", 1, env, minimum=0),
            lease_ttl_seconds=lease,
            job_timeout_seconds=env_float("EDITAI_RENDER_JOB_TIMEOUT_SECONDS", 3600.0, env, minimum=1.0),
            max_attempts=env_int("EDITAI_RENDER_MAX_ATTEMPTS", 2, env, minimum=1),
            requeue_after_seconds=env_float("EDITAI_RENDER_REQUEUE_AFTER_SECONDS", 30.0, env, minimum=1.0),
            db_pool_size=env_int("EDITAI_RENDER_DB_POOL_SIZE", 10, env, minimum=2),
            progress_address=service_address("progress", env),
            tts_address=service_address("tts", env),
        )
