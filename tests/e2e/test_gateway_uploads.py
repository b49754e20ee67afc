"""Guarantee 7 (uploads are bounded) through the real gateway process.

- A declared Content-Length over the limit is refused before the body is read.
- A chunked upload is cut off once it passes the limit; memory stays flat and
  no byte of it remains in the media store (nor in its .partial folder).
- A file that is not media is refused after its first bytes.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.conftest import StartService
from tests.gateway_support.multipart import FAKE_MP4_HEAD, encode, streamed_file
from tests.gateway_support.stack import GatewayStack, start_gateway_stack

pytestmark = pytest.mark.e2e
MIB = 1024 * 1024


@pytest.fixture
def gateway_stack(start_service: StartService, data_dir: Path) -> GatewayStack:
    return start_gateway_stack(start_service, data_dir)


@pytest.fixture
async def api(gateway_stack: GatewayStack) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_stack.client() as client:
        yield client


async def raw_request(port: int, head: bytes, body: bytes) -> tuple[int, bytes, float]:
    """Sends head + body on a socket; returns the status, the response body and the seconds to the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.perf_counter()
    writer.write(head + body)
    await writer.drain()
    response = await asyncio.wait_for(reader.read(65536), 5)
    elapsed = time.perf_counter() - started
    while b"\r\n\r\n" in response and not response.endswith(b"}"):
        more = await asyncio.wait_for(reader.read(65536), 5)
        if not more:
            break
        response += more
    writer.close()
    status = int(response.split(b" ", 2)[1])
    return status, response.split(b"\r\n\r\n", 1)[1], elapsed


async def test_declared_oversized_upload_is_refused_before_the_body(gateway_stack: GatewayStack) -> None:
    head = (
        f"POST /api/v1/jobs HTTP/1.1\r\nHost: gateway\r\nContent-Length: {600 * MIB}\r\n"
        "Content-Type: multipart/form-data; boundary=x\r\n\r\n"
    ).encode()
    status, body, elapsed = await raw_request(gateway_stack.gateway.port, head, b"--x\r\n")
    assert status == 413
    payload = json.loads(body)
    assert payload["error"]["reason"] == "UPLOAD_TOO_LARGE"
    assert "500 MiB" in payload["detail"]
    assert elapsed < 0.1, f"413 took {elapsed * 1000:.1f} ms"
    assert gateway_stack.stored_files() == []


async def test_chunked_upload_is_cut_off_past_the_limit_with_flat_memory(
    gateway_stack: GatewayStack, api: httpx.AsyncClient
) -> None:
    process = psutil.Process(gateway_stack.gateway.pid)
    before = process.memory_info().rss
    peak = before
    done = False

    async def sample() -> None:
        nonlocal peak
        while not done:
            peak = max(peak, process.memory_info().rss)
            await asyncio.sleep(0.02)

    sampler = asyncio.create_task(sample())
    body, content_type = await streamed_file("video", "big.mp4", FAKE_MP4_HEAD, 520 * MIB)
    try:
        reply = await api.post(
            "/api/v1/segments/source-videos", content=body, headers={"Content-Type": content_type}, timeout=120
        )
    finally:
        done = True
        await sampler
    assert reply.status_code == 413, reply.text
    assert reply.json()["error"]["reason"] == "UPLOAD_TOO_LARGE"
    growth = (peak - before) / MIB
    assert growth < 50, f"gateway RSS grew by {growth:.1f} MiB"
    assert gateway_stack.stored_files() == [], "no byte of a refused upload may stay in the media store"


async def test_a_text_file_is_not_accepted_as_video(gateway_stack: GatewayStack, api: httpx.AsyncClient) -> None:
    body, content_type = encode({}, {"video": ("notes.mp4", b"just some text, definitely not a video\n" * 10)})
    reply = await api.post("/api/v1/segments/source-videos", content=body, headers={"Content-Type": content_type})
    assert reply.status_code == 415, reply.text
    assert reply.json()["error"]["reason"] == "UNSUPPORTED_MEDIA_TYPE"
    assert "video" in reply.json()["detail"]
    assert gateway_stack.stored_files() == []


async def test_an_upload_that_is_not_multipart_is_refused(api: httpx.AsyncClient) -> None:
    reply = await api.post("/api/v1/jobs", content=b"{}", headers={"Content-Type": "application/json"})
    assert reply.status_code == 415
    assert reply.json()["error"]["reason"] == "UNSUPPORTED_CONTENT_TYPE"


async def test_a_missing_video_field_is_named(gateway_stack: GatewayStack, api: httpx.AsyncClient) -> None:
    body, content_type = encode({"variant_count": "2"}, {})
    reply = await api.post("/api/v1/jobs", content=body, headers={"Content-Type": content_type})
    assert reply.status_code == 400
    assert "video" in reply.json()["detail"]
