"""Fixtures starting real render processes (and the progress service they report to).

Import the fixtures a module needs: `from tests.render_support.fixtures import render_env, ...`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.processes import ServiceProcess

# Short leases so crash tests finish quickly (the default is 15 s).
TEST_LEASE_TTL = "3"


@pytest.fixture
def progress_service(start_service: Callable[..., ServiceProcess]) -> ServiceProcess:
    return start_service("progress")


@pytest.fixture
def render_env(progress_service: ServiceProcess) -> dict[str, str]:
    return {
        "EDITAI_PROGRESS_ADDR": progress_service.address,
        # No TTS running unless a test starts one: calls fail fast with UNAVAILABLE.
        "EDITAI_TTS_ADDR": "127.0.0.1:9",
        "EDITAI_RENDER_LEASE_TTL_SECONDS": TEST_LEASE_TTL,
    }


@pytest.fixture
def start_render(
    start_service: Callable[..., ServiceProcess], render_env: dict[str, str]
) -> Callable[..., ServiceProcess]:
    def start(module: str = "render", **env: str) -> ServiceProcess:
        return start_service(module, **{**render_env, **env})

    return start


@pytest.fixture
def media_dir(data_dir: Path) -> Path:
    path = data_dir / "media"
    path.mkdir(exist_ok=True)
    return path


__all__ = ["media_dir", "progress_service", "render_env", "start_render"]
