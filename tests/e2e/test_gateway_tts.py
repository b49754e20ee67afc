"""Speech through the REST API: voices, a synthesis job, and its audio with Range (real tts, render, progress)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import StartService
from tests.gateway_support.stack import GatewayStack, start_gateway_stack

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack(start_service: StartService, data_dir: Path) -> GatewayStack:
    return start_gateway_stack(start_service, data_dir, ("progress", "tts", "render"))


@pytest.fixture
async def api(stack: GatewayStack) -> AsyncIterator[httpx.AsyncClient]:
    async with stack.client() as client:
        yield client


async def test_voices_are_listed(api: httpx.AsyncClient) -> None:
    reply = await api.get("/api/v1/tts/voices", params={"provider": "local"})
    assert reply.status_code == 200, reply.text
    assert reply.json() and {"voice_id", "name", "provider"} <= set(reply.json()[0])


async def test_speech_is_synthesized_in_the_background_and_downloadable(api: httpx.AsyncClient) -> None:
    reply = await api.post("/api/v1/tts/generate", data={"text": "Hello from the gateway test.", "provider": "local"})
    assert reply.status_code == 202, reply.text
    job_id = reply.json()["job_id"]
    deadline = time.monotonic() + 60
    while (job := (await api.get(f"/api/v1/jobs/{job_id}")).json())["status"] not in ("completed", "failed"):
        assert time.monotonic() < deadline, job
        await asyncio.sleep(0.2)
    assert job["status"] == "completed", job
    audio = await api.get(f"/api/v1/tts/{job_id}/download")
    assert audio.status_code == 200 and audio.headers["content-type"].startswith("audio/")
    part = await api.get(f"/api/v1/tts/{job_id}/download", headers={"Range": "bytes=0-15"})
    assert part.status_code == 206 and part.content == audio.content[:16]


async def test_text_out_of_range_is_400_naming_the_field(api: httpx.AsyncClient) -> None:
    reply = await api.post("/api/v1/tts/generate", data={"text": "x" * 5001, "min_silence_duration": "5"})
    assert reply.status_code == 400
    assert "text" in reply.json()["detail"] and "min_silence_duration" in reply.json()["detail"]
