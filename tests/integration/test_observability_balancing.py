"""Channels from `open_channel` spread calls over every address a name resolves to.

In Kubernetes the gRPC Services are headless, so `editai-render:50051` resolves to every
render pod; with the default pick-first policy each caller would pin one pod forever.
Here an `ipv4:` target with two addresses stands in for that DNS answer.
"""

from __future__ import annotations

import asyncio
import contextlib

import grpc

from editai.progress.v1 import progress_pb2, progress_pb2_grpc
from editai_common.grpc_client import open_channel
from tests.conftest import StartService


async def test_calls_are_spread_over_every_replica(start_service: StartService) -> None:
    replicas = [start_service("progress", EDITAI_LOG_LEVEL="DEBUG") for _ in range(2)]
    channel = open_channel("ipv4:" + ",".join(replica.address for replica in replicas))
    try:
        stub = progress_pb2_grpc.ProgressServiceStub(channel)
        for _ in range(8):
            # The answer does not matter here, only who gave it.
            with contextlib.suppress(grpc.aio.AioRpcError):
                await stub.GetProgress(progress_pb2.GetProgressRequest(job_id="job-x"), timeout=5)
    finally:
        await channel.close(None)
    await asyncio.sleep(0.2)  # log lines are written as calls finish
    handled = [replica.logs().count("ProgressService/GetProgress") for replica in replicas]
    assert all(count >= 2 for count in handled), handled
