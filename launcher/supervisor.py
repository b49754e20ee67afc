"""Runs the four services as child processes and stops them together."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from editai_common.settings import DEFAULT_PORTS, service_port

# Start order: what a service dials must already be up.
SERVICES = ("progress", "tts", "render", "gateway")
START_TIMEOUT_SECONDS = 120.0
STOP_GRACE_SECONDS = 15.0


@dataclass
class Child:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    serving: threading.Event = field(default_factory=threading.Event)


class Supervisor:
    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.log_dir = log_dir
        log_dir.mkdir(parents=True, exist_ok=True)
        self.ports = {name: service_port(name, env) for name in SERVICES}
        self.env = dict(env)
        for name, port in self.ports.items():
            self.env.setdefault(f"EDITAI_{name.upper()}_ADDR", f"127.0.0.1:{port}")
        self.children: list[Child] = []

    def _spawn(self, name: str) -> Child:
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
        process = subprocess.Popen(
            [sys.executable, "-m", f"services.{name}", "--port", str(self.ports[name])],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches us; we stop children in order
        )
        log.close()
        child = Child(name, self.ports[name], process)
        threading.Thread(target=self._follow, args=(child,), daemon=True).start()
        return child

    @staticmethod
    def _follow(child: Child) -> None:
        assert child.process.stdout is not None
        for raw in child.process.stdout:
            try:
                event = json.loads(raw)
            except ValueError:
                continue
            if isinstance(event, dict) and event.get("event") == "serving":
                child.serving.set()

    def start_all(self, stop: threading.Event) -> bool:
        for name in SERVICES:
            child = self._spawn(name)
            self.children.append(child)
            print(f"  starting {name} on port {child.port} ...", flush=True)
            deadline = time.monotonic() + START_TIMEOUT_SECONDS
            while not child.serving.wait(0.1):
                if stop.is_set():
                    return False
                if child.process.poll() is not None or time.monotonic() > deadline:
                    print(f"{name} failed to start; see {self.log_dir / (name + '.log')}", file=sys.stderr)
                    return False
        return True

    def print_banner(self) -> None:
        gateway = self.ports["gateway"]
        print(
            "\nEditAI is up (Ctrl-C to stop)\n"
            f"  REST API     http://127.0.0.1:{gateway}/api/v1   (docs: http://127.0.0.1:{gateway}/docs)\n"
            f"  render gRPC  127.0.0.1:{self.ports['render']}\n"
            f"  tts gRPC     127.0.0.1:{self.ports['tts']}\n"
            f"  progress gRPC 127.0.0.1:{self.ports['progress']}\n"
            f"  auth mode    {self.env.get('EDITAI_AUTH')} (no token needed: requests act as profile 'local')\n"
            f"  logs         {self.log_dir}\n"
            "  try: .venv/bin/grpcurl -plaintext "
            f"127.0.0.1:{self.ports['progress']} grpc.health.v1.Health/Check\n",
            flush=True,
        )

    def watch(self, stop: threading.Event) -> None:
        while not stop.wait(0.5):
            for child in self.children:
                if child.process.poll() is not None:
                    print(f"{child.name} exited with {child.process.returncode}; stopping", file=sys.stderr)
                    return

    def stop_all(self) -> None:
        # Reverse order: the gateway stops taking requests before the services go.
        for child in reversed(self.children):
            if child.process.poll() is None:
                child.process.terminate()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in reversed(self.children):
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.process.pid, 9)
                child.process.wait()


__all__ = ["DEFAULT_PORTS", "Supervisor"]
