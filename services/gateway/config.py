"""Settings of the gateway, read once from EDITAI_* at start."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from editai_common.settings import CommonSettings, service_address, service_port


@dataclass(frozen=True)
class Settings:
    common: CommonSettings
    port: int
    render_address: str
    tts_address: str
    progress_address: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        return cls(
            common=CommonSettings.from_env(env),
            port=service_port("gateway", env),
            render_address=service_address("render", env),
            tts_address=service_address("tts", env),
            progress_address=service_address("progress", env),
        )
