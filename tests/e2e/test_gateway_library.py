"""The REST library against real render and progress processes.

- Upload → probe → source video; a fake video is refused by render's probe (400), its bytes deleted.
- One job per project through REST: a repeat at once is 409 naming the running job,
  accepted again once that job has ended (guarantee 1 as the frontend sees it).
- Owners only (guarantee 10): another profile's ids are 404.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import StartService
from tests.gateway_support.multipart import FAKE_MP4_HEAD, encode
from tests.gateway_support.stack import GatewayStack, start_gateway_stack
from tests.support.media import make_video

pytestmark = pytest.mark.e2e
ALICE = {"X-Profile-Id": "alice"}
BOB = {"X-Profile-Id": "bob"}


@pytest.fixture
def stack(start_service: StartService, data_dir: Path) -> GatewayStack:
    return start_gateway_stack(start_service, data_dir)


@pytest.fixture
async def api(stack: GatewayStack) -> AsyncIterator[httpx.AsyncClient]:
    async with stack.client() as client:
        yield client


@pytest.fixture
async def video_bytes(tmp_path: Path) -> bytes:
    return (await make_video(tmp_path / "source.mp4", seconds=6.0, size="320x240")).read_bytes()


async def upload_source_video(api: httpx.AsyncClient, video: bytes, headers: dict[str, str]) -> dict:
    body, content_type = encode({}, {"video": ("source.mp4", video)})
    reply = await api.post(
        "/api/v1/segments/source-videos", content=body, headers={**headers, "Content-Type": content_type}
    )
    assert reply.status_code == 201, reply.text
    return dict(reply.json())


async def project_with_segment(api: httpx.AsyncClient, video: bytes, headers: dict[str, str]) -> str:
    source = await upload_source_video(api, video, headers)
    segment = await api.post(
        "/api/v1/segments",
        json={"source_video_id": source["id"], "start_time": 0, "end_time": 5.5, "keywords": ["intro"]},
        headers=headers,
    )
    assert segment.status_code == 201, segment.text
    project = await api.post("/api/v1/library/projects", json={"name": "ad", "target_duration": 5}, headers=headers)
    assert project.status_code == 201, project.text
    project_id = project.json()["id"]
    linked = await api.post(
        f"/api/v1/library/projects/{project_id}/segments", json={"segment_ids": [segment.json()["id"]]}, headers=headers
    )
    assert linked.status_code == 201, linked.text
    return str(project_id)


async def wait_for_end(api: httpx.AsyncClient, job_id: str, headers: dict[str, str], within: float = 120) -> dict:
    deadline = time.monotonic() + within
    while True:
        job = (await api.get(f"/api/v1/jobs/{job_id}", headers=headers)).json()
        if job["status"] in ("completed", "failed", "cancelled"):
            return dict(job)
        assert time.monotonic() < deadline, job
        await asyncio.sleep(0.2)


async def test_an_uploaded_video_is_probed(api: httpx.AsyncClient, video_bytes: bytes) -> None:
    source = await upload_source_video(api, video_bytes, ALICE)
    assert (source["width"], source["height"]) == (320, 240)
    assert 5.5 < source["duration"] < 6.5


async def test_a_fake_video_is_refused_by_the_probe_and_deleted(stack: GatewayStack, api: httpx.AsyncClient) -> None:
    body, content_type = encode({}, {"video": ("fake.mp4", FAKE_MP4_HEAD + b"garbage" * 1000)})
    reply = await api.post("/api/v1/segments/source-videos", content=body, headers={"Content-Type": content_type})
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"]["reason"] == "UNSUPPORTED_MEDIA"
    assert stack.stored_files() == []


@pytest.mark.slow
async def test_a_busy_project_answers_409_with_the_job_then_accepts_again(
    api: httpx.AsyncClient, video_bytes: bytes
) -> None:
    project = await project_with_segment(api, video_bytes, ALICE)
    url = f"/api/v1/library/projects/{project}/generate-from-segments"
    request = {"variant_count": 1, "target_duration": 5}
    first = await api.post(url, json=request, headers=ALICE)
    assert first.status_code == 202, first.text
    job_id = first.json()["job_id"]
    assert first.json()["status"] == "generating" and first.json()["segments_count"] == 1

    again = await api.post(url, json=request, headers=ALICE)
    assert again.status_code == 409, again.text
    assert again.json()["job_id"] == job_id
    assert again.json()["error"]["reason"] == "PROJECT_LOCKED"

    ended = await wait_for_end(api, job_id, ALICE)
    assert ended["status"] == "completed", ended
    clips = (await api.get(f"/api/v1/library/projects/{project}/clips", headers=ALICE)).json()
    assert clips and clips[0]["final_status"] in ("pending", "processing", "completed", "failed")
    video = await api.get(clips[0]["download_url"], headers={**ALICE, "Range": "bytes=0-99"})
    assert video.status_code == 206 and len(video.content) == 100
    assert video.headers["content-type"] == "video/mp4"

    accepted = await api.post(url, json=request, headers=ALICE)
    assert accepted.status_code == 202, accepted.text
    cancelled = await api.post(f"/api/v1/library/projects/{project}/cancel", headers=ALICE)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert (await wait_for_end(api, accepted.json()["job_id"], ALICE))["status"] in ("cancelled", "completed")


async def test_another_profiles_project_is_404(api: httpx.AsyncClient) -> None:
    created = await api.post("/api/v1/library/projects", json={"name": "mine"}, headers=ALICE)
    project = created.json()["id"]
    assert (await api.get(f"/api/v1/library/projects/{project}", headers=ALICE)).status_code == 200
    for method, path in [
        ("GET", f"/api/v1/library/projects/{project}"),
        ("GET", f"/api/v1/library/projects/{project}/clips"),
        ("GET", f"/api/v1/library/projects/{project}/progress"),
        ("POST", f"/api/v1/library/projects/{project}/cancel"),
        ("DELETE", f"/api/v1/library/projects/{project}"),
    ]:
        reply = await api.request(method, path, headers=BOB)
        assert reply.status_code == 404, (method, path, reply.text)
    listed = (await api.get("/api/v1/library/projects", headers=BOB)).json()
    assert project not in {p["id"] for p in listed}
    assert (await api.get(f"/api/v1/library/projects/{project}", headers=ALICE)).status_code == 200, "still there"
    assert (await api.delete(f"/api/v1/library/projects/{project}", headers=ALICE)).status_code == 204
    assert (await api.get(f"/api/v1/library/projects/{project}", headers=ALICE)).status_code == 404


@pytest.mark.slow
async def test_a_one_shot_job_runs_from_upload_to_download(api: httpx.AsyncClient, video_bytes: bytes) -> None:
    srt = b"1\n00:00:00,000 --> 00:00:02,000\nHello there\n"
    body, content_type = encode(
        {"target_duration": "4", "variant_count": "1", "subtitle_settings": '{"fontSize": 40, "positionY": 80}'},
        {"video": ("source.mp4", video_bytes), "srt": ("subs.srt", srt)},
    )
    reply = await api.post(
        "/api/v1/jobs", content=body, headers={**ALICE, "Content-Type": content_type, "Idempotency-Key": "once"}
    )
    assert reply.status_code == 202, reply.text
    job = reply.json()
    assert job["status"] == "pending" and job["created_at"] and "progress" in job
    ended = await wait_for_end(api, job["job_id"], ALICE, within=180)
    assert ended["status"] == "completed", ended
    video = await api.get(f"/api/v1/jobs/{job['job_id']}/download", headers=ALICE)
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    assert video.content[4:8] == b"ftyp"
    assert (await api.get(f"/api/v1/jobs/{job['job_id']}/download", headers=BOB)).status_code == 404
