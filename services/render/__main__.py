"""`python -m services.render [--port N]`: run the render service."""

from __future__ import annotations

from editai_common.service_main import run_service
from services.render.config import Settings
from services.render.server import serve

if __name__ == "__main__":
    run_service("render", Settings.from_env, serve)
