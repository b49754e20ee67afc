"""The README's first command: the launcher starts every service, waits until each
serves, and on SIGTERM stops them all, leaving no process behind and the ports free."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from editai_common.embedded import free_port
from tests.support.processes import ROOT

pytestmark = pytest.mark.e2e


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return False
        return True


def test_launcher_starts_everything_and_stops_cleanly_on_sigterm(base_env: dict[str, str], tmp_path: Path) -> None:
    ports = {name: free_port() for name in ("gateway", "render", "tts", "progress")}
    env = {**base_env, **{f"EDITAI_{name.upper()}_PORT": str(port) for name, port in ports.items()}}
    env["EDITAI_DATA_DIR"] = str(tmp_path / "data")
    output = tmp_path / "launcher.out"
    with open(output, "wb") as sink:
        launcher = subprocess.Popen(
            [sys.executable, "-m", "launcher"], cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 120
        while "EditAI is up" not in output.read_text():
            assert launcher.poll() is None, output.read_text()
            assert time.monotonic() < deadline, output.read_text()
            time.sleep(0.2)
        text = output.read_text()
        for name, port in ports.items():
            assert str(port) in text, f"{name} port missing from the banner"
        children = psutil.Process(launcher.pid).children(recursive=True)
        assert len([c for c in children if "services." in " ".join(c.cmdline())]) == 4

        launcher.send_signal(signal.SIGTERM)
        assert launcher.wait(60) == 0
    finally:
        if launcher.poll() is None:
            launcher.kill()
    assert "EditAI stopped." in output.read_text()
    _, alive = psutil.wait_procs(children, timeout=5)
    assert alive == []
    assert all(_port_free(port) for port in ports.values())


def test_readme_starts_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text().splitlines()
    fenced = [line for line in readme[:20] if line and not line.startswith("```") and not line.startswith("#")]
    commands = [line for line in fenced if line.startswith("python3 dev.py")]
    assert commands[:2] == ["python3 dev.py up", "python3 dev.py test"]
    assert os.access(ROOT / ".ci" / "run", os.R_OK)
    assert "python3 dev.py test" in (ROOT / ".ci" / "run").read_text()
