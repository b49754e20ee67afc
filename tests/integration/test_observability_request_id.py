"""A request id given in metadata reaches the logs of every service on the call's path.

The chain: test → relay (an in-test grpc.aio server built like every service's,
calling through `open_channel`) → a real progress service process. The relay logs
through the JSON formatter into a buffer; the progress process into its log file.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import pytest

from editai.progress.v1 import progress_pb2, progress_pb2_grpc
from editai_common.grpc_client import open_channel
from editai_common.logs import JsonFormatter, log_context
from editai_common.observability import grpc_server_interceptors
from tests.conftest import StartService
from tests.support.processes import json_entries


@pytest.fixture
def relay_log() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter("relay"))
    logger = logging.getLogger("editai")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield buffer
    logger.removeHandler(handler)
    logger.setLevel(previous)


class Relay(progress_pb2_grpc.ProgressServiceServicer):
    """Answers GetProgress by asking the real progress service, as render would."""

    def __init__(self, downstream: grpc.aio.Channel) -> None:
        self._stub = progress_pb2_grpc.ProgressServiceStub(downstream)

    async def GetProgress(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        logging.getLogger("editai.relay").info("asking progress")
        try:
            return await self._stub.GetProgress(request, timeout=5)
        except grpc.aio.AioRpcError as error:
            await context.abort(error.code(), error.details() or "")


@pytest.fixture
async def relay_to(start_service: StartService) -> AsyncIterator[tuple[str, Any]]:
    progress = start_service("progress", EDITAI_LOG_LEVEL="DEBUG")
    downstream = open_channel(progress.address)
    server = grpc.aio.server(interceptors=grpc_server_interceptors("relay", {}))
    progress_pb2_grpc.add_ProgressServiceServicer_to_server(Relay(downstream), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield f"127.0.0.1:{port}", progress
    await server.stop(None)
    await downstream.close(None)


def wait_for_line(read: Any, predicate: Any, timeout: float = 5.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        lines = [line for line in json_entries(read()) if predicate(line)]
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


async def test_request_id_reaches_every_service_on_the_path(relay_to: tuple[str, Any], relay_log: io.StringIO) -> None:
    relay_address, progress = relay_to
    request_id = "req-7f3a9c"

    async with grpc.aio.insecure_channel(relay_address) as channel:
        with pytest.raises(grpc.aio.AioRpcError):  # the progress skeleton may not answer yet; the path is the point
            await progress_pb2_grpc.ProgressServiceStub(channel).GetProgress(
                progress_pb2.GetProgressRequest(),
                metadata=[("x-request-id", request_id), ("x-job-id", "job-42")],
                timeout=5,
            )

    relay_lines = [line for line in json_entries(relay_log.getvalue()) if line.get("event") == "asking progress"]
    assert relay_lines and relay_lines[0]["request_id"] == request_id
    assert relay_lines[0]["job_id"] == "job-42"

    downstream = wait_for_line(progress.logs, lambda line: line.get("rpc", "").endswith("ProgressService/GetProgress"))
    assert downstream, f"progress logged no line for the call:\n{progress.logs()[-2000:]}"
    assert downstream[-1]["request_id"] == request_id
    assert downstream[-1]["job_id"] == "job-42"
    assert downstream[-1]["trace_id"] == relay_lines[0]["trace_id"], "one trace across both hops"


async def test_a_malformed_request_id_is_replaced_not_logged(relay_to: tuple[str, Any], relay_log: io.StringIO) -> None:
    relay_address, _ = relay_to
    hostile = 'evil id "quoted" ' + "x" * 300
    async with grpc.aio.insecure_channel(relay_address) as channel:
        with pytest.raises(grpc.aio.AioRpcError):
            await progress_pb2_grpc.ProgressServiceStub(channel).GetProgress(
                progress_pb2.GetProgressRequest(), metadata=[("x-request-id", hostile)], timeout=5
            )
    line = next(line for line in json_entries(relay_log.getvalue()) if line.get("event") == "asking progress")
    assert line["request_id"] != hostile
    assert len(line["request_id"]) == 32


async def test_client_interceptor_sends_the_current_request_id(relay_to: tuple[str, Any]) -> None:
    _, progress = relay_to
    channel = open_channel(progress.address)
    try:
        with log_context(request_id="from-context-1"), pytest.raises(grpc.aio.AioRpcError):
            await progress_pb2_grpc.ProgressServiceStub(channel).GetProgress(
                progress_pb2.GetProgressRequest(), timeout=5
            )
    finally:
        await channel.close(None)
    found = wait_for_line(progress.logs, lambda line: line.get("request_id") == "from-context-1")
    assert found
