"""`python -m services.tts [--port N]`: run the tts service."""

from __future__ import annotations

import argparse
import asyncio
import os

from editai_common.grpc_server import exit_on_config_error
from editai_common.logs import configure_logging
from services.tts.config import Settings
from services.tts.server import serve


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m services.tts")
    parser.add_argument("--port", type=int, help="port to listen on (0 = any free port)")
    args = parser.parse_args()
    env = dict(os.environ)
    if args.port is not None:
        env["EDITAI_TTS_PORT"] = str(args.port)
    settings = Settings.from_env(env)
    configure_logging("tts", settings.common.log_level)
    asyncio.run(serve(settings))


if __name__ == "__main__":
    exit_on_config_error(main)
