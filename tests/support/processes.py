"""Service processes under test: real `python -m services.X` on ephemeral ports.

A process prints `{"event": "serving", "port": N}` on stdout once it serves; the
harness waits for that line, so tests never sleep-and-hope. Logs go to a file per
process (shown when a start fails) so they never fill a pipe.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


class ServiceStartError(RuntimeError):
    pass


class ServiceProcess:
    """One service process. `restart()` brings it back on the same port."""

    def __init__(self, module: str, env: dict[str, str], log_dir: Path, args: list[str] | None = None) -> None:
        self.module = module
        self.env = env
        self.args = args or []
        self.log_dir = log_dir
        self.port = 0
        self.serving_event: dict[str, object] = {}
        self.process: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._starts = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def metrics_port(self) -> int:
        """The Prometheus port the service announced (its `"metrics_port"`), 0 if none."""
        return int(self.serving_event.get("metrics_port", 0))  # type: ignore[call-overload]

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.module.rsplit('.', 1)[-1]}-{id(self)}-{self._starts}.log"

    def start(self, timeout: float = 60.0) -> ServiceProcess:
        self._starts += 1
        log = open(self.log_path, "wb")  # noqa: SIM115 - owned by the child
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module, "--port", str(self.port), *self.args],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        self.port = self._wait_serving(timeout)
        return self

    def _wait_serving(self, timeout: float) -> int:
        assert self.process is not None and self.process.stdout is not None
        found: dict[str, int] = {}
        stdout = self.process.stdout

        def read() -> None:
            for raw in stdout:
                try:
                    event = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(event, dict) and event.get("event") == "serving":
                    self.serving_event = event
                    found["port"] = int(event["port"])
                    break
            # Keep draining so the child never blocks on a full pipe.
            for _ in stdout:
                pass
            stdout.close()

        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout
        while "port" not in found:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise ServiceStartError(f"{self.module} did not start; log:\n{self.log_path.read_text()[-4000:]}")
            time.sleep(0.02)
        return found["port"]

    def logs(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")
            for p in sorted(self.log_dir.glob(f"{self.module.rsplit('.', 1)[-1]}-{id(self)}-*.log"))
        )

    def log_entries(self) -> list[dict[str, Any]]:
        """The service's JSON log lines, parsed (other output skipped)."""
        return json_entries(self.logs())

    def wait_for_log_entries(self, timeout: float = 5.0, **fields: object) -> list[dict[str, Any]]:
        """Log lines whose fields equal `fields`, waiting up to `timeout` for the first to appear."""
        deadline = time.monotonic() + timeout
        while True:
            found = [e for e in self.log_entries() if all(e.get(k) == v for k, v in fields.items())]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to clean up (crash tests)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._join_reader()

    def _join_reader(self) -> None:
        if self._reader is not None:
            self._reader.join(5)

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait: a graceful shutdown. Returns the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout)
        self._join_reader()
        return code

    def restart(self, timeout: float = 60.0) -> ServiceProcess:
        self.kill()
        return self.start(timeout)

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def json_entries(text: str) -> list[dict[str, Any]]:
    """JSON objects of a JSON-lines log; lines that are not JSON objects are skipped."""
    entries = []
    for raw in text.splitlines():
        try:
            entry = json.loads(raw)
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


def service_env(base: dict[str, str], **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDITAI_")}
    env.update(base)
    env.update(overrides)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env
