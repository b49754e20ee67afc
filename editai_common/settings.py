"""Reading EDITAI_* environment variables into typed values.

Each service has one frozen `Settings.from_env()` built on these readers; they
fail with a sentence naming the variable, never with a bare ValueError. Every
variable is documented in docs/configuration.md.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


class ConfigError(ValueError):
    """An EDITAI_* variable is missing or has a value that cannot be used."""


def env_str(name: str, default: str | None = None, env: Mapping[str, str] | None = None) -> str:
    source = os.environ if env is None else env
    value = source.get(name)
    if value is None or value == "":
        if default is None:
            raise ConfigError(f"{name} is not set; it is required.")
        return default
    return value


def env_int(name: str, default: int, env: Mapping[str, str] | None = None, *, minimum: int = 0) -> int:
    raw = env_str(name, str(default), env)
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not an integer.") from None
    if value < minimum:
        raise ConfigError(f"{name}={value} must be at least {minimum}.")
    return value


def env_float(name: str, default: float, env: Mapping[str, str] | None = None, *, minimum: float = 0.0) -> float:
    raw = env_str(name, str(default), env)
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number.") from None
    if value < minimum:
        raise ConfigError(f"{name}={value} must be at least {minimum}.")
    return value


def env_bool(name: str, default: bool, env: Mapping[str, str] | None = None) -> bool:
    raw = env_str(name, "true" if default else "false", env).strip().lower()
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean (use true or false).")


DEFAULT_PORTS = {"gateway": 8000, "render": 50051, "tts": 50052, "progress": 50053}


@dataclass(frozen=True)
class CommonSettings:
    """Settings every service shares: where data, Postgres and Redis live."""

    data_dir: Path
    database_url: str
    redis_url: str
    redis_prefix: str
    dev_auth: bool
    log_level: str

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> CommonSettings:
        return cls(
            data_dir=Path(env_str("EDITAI_DATA_DIR", "./.editai", env)).resolve(),
            database_url=env_str("EDITAI_DATABASE_URL", None, env),
            redis_url=env_str("EDITAI_REDIS_URL", None, env),
            redis_prefix=env_str("EDITAI_REDIS_PREFIX", "editai:", env),
            dev_auth=env_str("EDITAI_AUTH", "jwt", env).strip().lower() == "dev",
            log_level=env_str("EDITAI_LOG_LEVEL", "INFO", env).upper(),
        )


def service_port(service: str, env: Mapping[str, str] | None = None) -> int:
    return env_int(f"EDITAI_{service.upper()}_PORT", DEFAULT_PORTS[service], env)


def service_address(service: str, env: Mapping[str, str] | None = None) -> str:
    """host:port other services dial: EDITAI_<SERVICE>_ADDR, else localhost and its port."""
    return env_str(f"EDITAI_{service.upper()}_ADDR", f"127.0.0.1:{service_port(service, env)}", env)
