"""The `python -m services.<name> [--port N]` entry point every gRPC service shares."""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Callable, Coroutine, Mapping
from typing import TypeVar

from editai_common.grpc_server import exit_on_config_error
from editai_common.logs import configure_logging

SettingsT = TypeVar("SettingsT")


def run_service(
    service: str,
    settings_from_env: Callable[[Mapping[str, str]], SettingsT],
    serve: Callable[[SettingsT], Coroutine[object, object, None]],
    *,
    prog: str | None = None,
    log_name: str | None = None,
) -> None:
    """Parses `--port`, reads the settings once, configures JSON logs and serves.

    `--port` overrides EDITAI_<SERVICE>_PORT (0 = any free port, announced on stdout).
    A configuration error prints one sentence and exits 2, never a traceback.
    """

    def main() -> None:
        parser = argparse.ArgumentParser(prog=prog or f"python -m services.{service}")
        parser.add_argument("--port", type=int, help="port to listen on (0 = any free port)")
        args = parser.parse_args()
        env = dict(os.environ)
        if args.port is not None:
            env[f"EDITAI_{service.upper()}_PORT"] = str(args.port)
        settings = settings_from_env(env)
        configure_logging(log_name or service, getattr(getattr(settings, "common", None), "log_level", "INFO"))
        asyncio.run(serve(settings))

    exit_on_config_error(main)
