"""Settings of the progress service, read once from EDITAI_* at start."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from editai_common.settings import CommonSettings, service_port


@dataclass(frozen=True)
class Settings:
    common: CommonSettings
    port: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        return cls(common=CommonSettings.from_env(env), port=service_port("progress", env))
