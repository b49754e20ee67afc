"""Guarantee 8 (nothing blocks the event loop) at the gateway: while a large upload
streams to disk, the same process keeps answering other requests at once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import StartService
from tests.gateway_support.multipart import FAKE_MP4_HEAD, streamed_file
from tests.gateway_support.stack import start_gateway_stack

pytestmark = pytest.mark.e2e
MIB = 1024 * 1024


async def test_health_answers_promptly_during_a_large_upload(start_service: StartService, data_dir: Path) -> None:
    stack = start_gateway_stack(start_service, data_dir, EDITAI_MAX_UPLOAD_MB="2048")
    latencies: list[float] = []
    uploading = True

    async def poll_health(client: httpx.AsyncClient) -> None:
        while uploading:
            started = time.perf_counter()
            reply = await client.get("/healthz")
            latencies.append(time.perf_counter() - started)
            assert reply.status_code == 200
            await asyncio.sleep(0.01)

    body, content_type = await streamed_file("video", "big.mp4", FAKE_MP4_HEAD, 1536 * MIB)
    async with stack.client() as uploader, stack.client() as prober:
        poller = asyncio.create_task(poll_health(prober))
        try:
            reply = await uploader.post(
                "/api/v1/segments/source-videos", content=body, headers={"Content-Type": content_type}, timeout=120
            )
        finally:
            uploading = False
            await poller

    # Zeros behind an MP4 header are not a video: render's probe refuses them and nothing is kept.
    assert reply.status_code == 400, reply.text
    assert stack.stored_files() == []
    assert len(latencies) >= 10, "the upload should take long enough to sample"
    worst = max(latencies)
    assert worst < 0.25, f"/healthz took {worst * 1000:.0f} ms during the upload"
