"""The gateway as a real process in front of real backend processes."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt

from tests.conftest import StartService
from tests.support.processes import ServiceProcess

JWT_SECRET = "gateway-test-secret-with-enough-bytes-for-hs256"


@dataclass
class GatewayStack:
    gateway: ServiceProcess
    backends: dict[str, ServiceProcess]
    media_dir: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway.port}"

    def client(self, **kwargs: object) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, timeout=30.0, **kwargs)  # type: ignore[arg-type]

    def stored_files(self) -> list[Path]:
        """Every file in the media store, partial files included."""
        if not self.media_dir.exists():
            return []
        return [p for p in self.media_dir.rglob("*") if p.is_file()]


def start_gateway_stack(
    start_service: StartService, data_dir: Path, backends: tuple[str, ...] = ("progress", "render"), **env: str
) -> GatewayStack:
    """Starts `backends` (render reports to progress, calls tts when started) and the gateway in front."""
    processes: dict[str, ServiceProcess] = {}
    for name in ("progress", "tts"):
        if name in backends:
            processes[name] = start_service(name)
    if "render" in backends:
        processes["render"] = start_service(
            "render",
            EDITAI_PROGRESS_ADDR=processes["progress"].address if "progress" in processes else "127.0.0.1:9",
            EDITAI_TTS_ADDR=processes["tts"].address if "tts" in processes else "127.0.0.1:9",
        )
    addresses = {f"EDITAI_{name.upper()}_ADDR": p.address for name, p in processes.items()}
    gateway = start_service("gateway", **{"EDITAI_JWT_SECRET": JWT_SECRET, **addresses, **env})
    return GatewayStack(gateway=gateway, backends=processes, media_dir=data_dir / "media")


def token(profile: str, *, expires_in: float = 300, secret: str = JWT_SECRET, **claims: object) -> str:
    payload = {"sub": profile, "exp": int(time.time() + expires_in), **claims}
    return jwt.encode(payload, secret, algorithm="HS256")


def bearer(profile: str, **kwargs: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(profile, **kwargs)}"}  # type: ignore[arg-type]
