"""Progress through the gateway: GET and the SSE stream, fed by the real progress service.

Progress is driven directly with UpdateProgress (as a render worker does); the gateway
reads it with GetProgress / WatchProgress.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import grpc
import httpx
import pytest

from tests.conftest import StartService
from tests.gateway_support.sse import Event, events
from tests.gateway_support.stack import GatewayStack, start_gateway_stack
from tests.progress_support.client import RUNNING, SUCCEEDED, report, stub

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack(start_service: StartService, data_dir: Path) -> GatewayStack:
    return start_gateway_stack(start_service, data_dir, EDITAI_SSE_PING_SECONDS="0.2")


@pytest.fixture
async def api(stack: GatewayStack) -> AsyncIterator[httpx.AsyncClient]:
    async with stack.client() as client:
        yield client


@pytest.fixture
def progress(stack: GatewayStack, grpc_channel_factory: Callable[[str], grpc.aio.Channel]) -> object:
    return stub(grpc_channel_factory(stack.backends["progress"].address))


async def new_project(api: httpx.AsyncClient, profile: str) -> str:
    reply = await api.post("/api/v1/library/projects", json={"name": "p"}, headers={"X-Profile-Id": profile})
    assert reply.status_code == 201, reply.text
    return str(reply.json()["id"])


async def collect(api: httpx.AsyncClient, url: str, headers: dict[str, str]) -> list[Event]:
    async with api.stream("GET", url, headers=headers, timeout=20) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        return [event async for event in events(response)]


async def test_a_project_without_jobs_is_idle(api: httpx.AsyncClient) -> None:
    project = await new_project(api, "alice")
    reply = await api.get(f"/api/v1/library/projects/{project}/progress", headers={"X-Profile-Id": "alice"})
    assert reply.status_code == 200
    assert reply.json()["status"] == "idle" and reply.json()["job_id"] is None
    stream = await collect(api, f"/api/v1/library/projects/{project}/progress/stream", {"X-Profile-Id": "alice"})
    assert [e.json()["status"] for e in stream] == ["idle"], "one idle event; EventSource retries later"
    other = await api.get(f"/api/v1/library/projects/{project}/progress", headers={"X-Profile-Id": "bob"})
    assert other.status_code == 404


async def test_progress_reads_the_latest_job(api: httpx.AsyncClient, progress: object) -> None:
    project, job = await new_project(api, "alice"), f"job-{uuid.uuid4().hex[:8]}"
    await report(progress, job, 42, project_id=project, profile_id="alice", step="cutting")  # type: ignore[arg-type]
    reply = await api.get(f"/api/v1/library/projects/{project}/progress", headers={"X-Profile-Id": "alice"})
    body = reply.json()
    assert {k: body[k] for k in ("percentage", "current_step", "status", "job_id")} == {
        "percentage": 42.0,
        "current_step": "cutting",
        "status": "processing",
        "job_id": job,
    }
    assert set(body) >= {"percentage", "current_step", "estimated_remaining", "status", "job_id", "updated_at"}
    other = await api.get(f"/api/v1/library/projects/{project}/progress", headers={"X-Profile-Id": "bob"})
    assert other.status_code == 404, "another profile's progress is invisible"


async def test_stream_delivers_increasing_progress_until_done_and_resumes(
    api: httpx.AsyncClient, progress: object
) -> None:
    project, job = await new_project(api, "alice"), f"job-{uuid.uuid4().hex[:8]}"
    headers = {"X-Profile-Id": "alice"}
    url = f"/api/v1/library/projects/{project}/progress/stream"
    await report(progress, job, 5, project_id=project, profile_id="alice")  # type: ignore[arg-type]

    async def drive() -> None:
        for pct in (20, 40, 60, 80):
            await asyncio.sleep(0.15)
            await report(progress, job, pct, project_id=project, profile_id="alice", status=RUNNING)  # type: ignore[arg-type]
        await asyncio.sleep(0.15)
        await report(progress, job, 100, project_id=project, profile_id="alice", status=SUCCEEDED)  # type: ignore[arg-type]

    driver = asyncio.create_task(drive())
    received = await asyncio.wait_for(collect(api, url, headers), 20)
    await driver
    updates = [e for e in received if e.event == "progress"]
    percentages = [e.json()["percentage"] for e in updates]
    assert percentages == sorted(percentages) and len(percentages) >= 3, percentages
    assert updates[-1].json()["status"] == "completed" and percentages[-1] == 100
    ids = [int(e.id or 0) for e in updates]
    assert ids == sorted(ids) and len(set(ids)) == len(ids), ids

    # A reconnecting EventSource sends the last id it saw: only newer updates come back.
    resumed = await asyncio.wait_for(collect(api, url, {**headers, "Last-Event-ID": str(ids[1])}), 20)
    resumed_ids = [int(e.id or 0) for e in resumed if e.event == "progress"]
    assert resumed_ids and min(resumed_ids) > ids[1]
    assert resumed[-1].json()["status"] == "completed"

    # After the final event the browser reconnects on its own; 204 tells EventSource to stop.
    finished = await api.get(url, headers={**headers, "Last-Event-ID": str(ids[-1])})
    assert finished.status_code == 204


async def test_stream_sends_heartbeats_while_nothing_changes(api: httpx.AsyncClient, progress: object) -> None:
    project, job = await new_project(api, "alice"), f"job-{uuid.uuid4().hex[:8]}"
    await report(progress, job, 10, project_id=project, profile_id="alice")  # type: ignore[arg-type]
    url = f"/api/v1/library/projects/{project}/progress/stream"
    pings = 0
    async with api.stream("GET", url, headers={"X-Profile-Id": "alice"}, timeout=10) as response:
        async for line in response.aiter_lines():
            if line.startswith(":"):
                pings += 1
                if pings == 2:
                    break
    assert pings == 2


async def test_stream_of_another_profiles_project_is_404(api: httpx.AsyncClient, progress: object) -> None:
    project, job = await new_project(api, "alice"), f"job-{uuid.uuid4().hex[:8]}"
    await report(progress, job, 10, project_id=project, profile_id="alice")  # type: ignore[arg-type]
    reply = await api.get(f"/api/v1/library/projects/{project}/progress/stream", headers={"X-Profile-Id": "bob"})
    assert reply.status_code == 404
