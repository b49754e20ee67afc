"""`python -m services.progress [--port N]`: run the progress service."""

from __future__ import annotations

from editai_common.service_main import run_service
from services.progress.config import Settings
from services.progress.server import serve

if __name__ == "__main__":
    run_service("progress", Settings.from_env, serve)
