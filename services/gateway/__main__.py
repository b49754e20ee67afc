"""`python -m services.gateway [--port N]`: run the REST gateway with uvicorn."""

from __future__ import annotations

import argparse
import asyncio
import os
import socket

import uvicorn

from editai_common.grpc_server import announce, exit_on_config_error
from editai_common.logs import configure_logging
from services.gateway.app import create_app
from services.gateway.config import Settings


async def serve(settings: Settings, host: str) -> None:
    # Bind first so that port 0 works: the real port is announced before serving.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, settings.port))
    config = uvicorn.Config(
        create_app(settings),
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
        # httptools (C) parses requests: upload bodies reach the app with one copy, not h11's three.
        http="httptools",
        h11_max_incomplete_event_size=64 * 1024,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():  # noqa: ASYNC110 - uvicorn has no "started" event
        await asyncio.sleep(0.01)
    if server.started:
        announce("gateway", sock.getsockname()[1])
    await task


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m services.gateway")
    parser.add_argument("--port", type=int, help="port to listen on (0 = any free port)")
    parser.add_argument("--host", default=os.environ.get("EDITAI_GATEWAY_HOST", "0.0.0.0"))
    args = parser.parse_args()
    env = dict(os.environ)
    if args.port is not None:
        env["EDITAI_GATEWAY_PORT"] = str(args.port)
    settings = Settings.from_env(env)
    configure_logging("gateway", settings.common.log_level)
    asyncio.run(serve(settings, args.host))


if __name__ == "__main__":
    exit_on_config_error(main)
