"""Operations: the progress service exports how far its durable writes lag behind
what it acknowledged, and how many acknowledged values are not yet durable."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from editai.progress.v1 import progress_pb2, progress_pb2_grpc
from editai_common.grpc_client import open_channel
from tests.conftest import StartService
from tests.integration.test_observability_job_metrics import sample_values

pytestmark = pytest.mark.e2e


async def test_flush_lag_and_pending_writes_after_updates(start_service: StartService) -> None:
    progress = start_service("progress", EDITAI_PROGRESS_FLUSH_INTERVAL_MS="50")
    channel = open_channel(progress.address)
    try:
        stub = progress_pb2_grpc.ProgressServiceStub(channel)
        for percentage in (10, 20, 30):
            await stub.UpdateProgress(
                progress_pb2.UpdateProgressRequest(
                    job_id="metrics-job", project_id="p", profile_id="local", percentage=percentage,
                    current_step="encoding", status=progress_pb2.JOB_STATUS_RUNNING, fencing_token=1,
                ),
                timeout=5,
            )  # fmt: skip
    finally:
        await channel.close(None)
    await asyncio.sleep(0.3)  # a few flush intervals

    async with httpx.AsyncClient() as client:
        values = sample_values((await client.get(f"http://127.0.0.1:{progress.metrics_port}/metrics", timeout=5)).text)

    assert values[("editai_progress_flush_lag_seconds_count", ())] >= 1
    assert values[("editai_progress_flush_lag_seconds_sum", ())] < 1.0
    assert values[("editai_progress_pending_writes", ())] == 0
