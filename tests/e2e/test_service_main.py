"""Each service's entry point: a bad setting is one sentence and exit code 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.processes import ROOT

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("module", ["services.progress", "services.tts", "services.render", "services.render.worker"])
def test_a_bad_setting_is_one_sentence_and_exit_2(module: str, base_env: dict[str, str]) -> None:
    env = {**base_env, "EDITAI_LOG_LEVEL": "INFO", "EDITAI_PROGRESS_PORT": "not-a-port",
           "EDITAI_TTS_PORT": "not-a-port", "EDITAI_RENDER_PORT": "not-a-port"}  # fmt: skip

    result = subprocess.run(
        [sys.executable, "-m", module], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 2, result.stderr
    assert "not-a-port" in result.stderr and "is not an integer" in result.stderr
    assert "Traceback" not in result.stderr
