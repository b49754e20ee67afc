"""deploy/healthcheck.py, the compose health check, against a real service process."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from tests.conftest import StartService

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "healthcheck.py"


def check(*args: str) -> int:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, timeout=30).returncode


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_grpc_health_check_passes_for_a_serving_service(start_service: StartService) -> None:
    progress = start_service("progress")
    assert check("grpc", progress.address) == 0


def test_grpc_health_check_fails_when_nothing_answers() -> None:
    assert check("grpc", f"127.0.0.1:{closed_port()}") == 1


def test_http_health_check_fails_when_nothing_answers() -> None:
    assert check("http", f"http://127.0.0.1:{closed_port()}/healthz") == 1
