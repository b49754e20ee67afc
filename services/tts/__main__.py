"""`python -m services.tts [--port N]`: run the tts service."""

from __future__ import annotations

from editai_common.service_main import run_service
from services.tts.config import Settings
from services.tts.server import serve

if __name__ == "__main__":
    run_service("tts", Settings.from_env, serve)
