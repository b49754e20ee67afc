"""The gateway's own checks around one backend call (in-process app, scripted render).

- JSON in form fields: malformed → 400 `Invalid JSON in <field>: …`; schema breaks → 400
  listing every bad field; nothing is started and no uploaded byte stays stored.
- Downloads stream from the media store with Range (206, 416) and content types.
- Job-starting requests are rate limited per client (429 + Retry-After).
- Bearer tokens: expired/invalid → 401; X-Profile-Id only when the token allows it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from editai.render.v1 import render_pb2
from tests.gateway_support.in_process import gateway_env, in_process_gateway
from tests.gateway_support.multipart import FAKE_MP4_HEAD, encode
from tests.gateway_support.scripted_render import ScriptedRender, scripted_render
from tests.gateway_support.stack import bearer

CLIP_RENDER = "/api/v1/library/clips/c-1/render"


@pytest.fixture
async def render() -> AsyncIterator[ScriptedRender]:
    async with scripted_render() as script:
        yield script


@pytest.fixture
def env(render: ScriptedRender, data_dir: Path, redis_url: str, redis_prefix: str) -> dict[str, str]:
    return gateway_env(data_dir, redis_url, redis_prefix, EDITAI_RENDER_ADDR=render.address)


@pytest.fixture
async def gateway(env: dict[str, str]) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with in_process_gateway(env) as pair:
        yield pair


@pytest.fixture
def api(gateway: tuple[FastAPI, httpx.AsyncClient]) -> httpx.AsyncClient:
    return gateway[1]


def stored_files(data_dir: Path) -> list[Path]:
    return [p for p in (data_dir / "media").rglob("*") if p.is_file()]


# ----------------------------------------------------------------------------- JSON in form fields


async def test_malformed_subtitle_settings_on_render_names_the_field(
    render: ScriptedRender, api: httpx.AsyncClient
) -> None:
    reply = await api.post(CLIP_RENDER, data={"preset_name": "tiktok", "subtitle_settings": "{bad"})
    assert reply.status_code == 400
    assert reply.json()["detail"].startswith("Invalid JSON in subtitle_settings: ")
    assert reply.json()["error"]["reason"] == "INVALID_JSON"
    assert render.calls == [], "nothing may start"


async def test_malformed_subtitle_settings_on_jobs_names_the_field_and_keeps_nothing(
    render: ScriptedRender, api: httpx.AsyncClient, data_dir: Path
) -> None:
    body, content_type = encode({"subtitle_settings": "{bad"}, {"video": ("a.mp4", FAKE_MP4_HEAD * 100)})
    reply = await api.post("/api/v1/jobs", content=body, headers={"Content-Type": content_type})
    assert reply.status_code == 400
    assert reply.json()["detail"].startswith("Invalid JSON in subtitle_settings: ")
    assert render.calls == []
    assert stored_files(data_dir) == [], "the uploaded video is deleted when the request is refused"


async def test_subtitle_settings_that_break_the_schema_list_every_field(
    render: ScriptedRender, api: httpx.AsyncClient
) -> None:
    settings = '{"fontSize": "big", "textColor": "red", "positionY": 140, "borderStyle": 2, "glowBlur": -1, "x": 1}'
    reply = await api.post(CLIP_RENDER, data={"subtitle_settings": settings})
    assert reply.status_code == 400
    body = reply.json()
    fields = {v["field"] for d in body["error"]["details"] for v in d.get("fieldViolations", [])}
    assert fields == {
        "subtitle_settings.fontSize",
        "subtitle_settings.textColor",
        "subtitle_settings.positionY",
        "subtitle_settings.borderStyle",
        "subtitle_settings.glowBlur",
    }
    for name in fields:
        assert name in body["detail"]
    assert render.calls == []


async def test_render_form_ranges_are_checked(render: ScriptedRender, api: httpx.AsyncClient) -> None:
    reply = await api.post(CLIP_RENDER, data={"denoise_strength": "11", "preset_name": "myspace", "brightness": "x"})
    assert reply.status_code == 400
    detail = reply.json()["detail"]
    assert "denoise_strength" in detail and "preset_name" in detail and "brightness" in detail
    assert render.calls == []


async def test_valid_render_form_reaches_render_as_a_subtitle_style(
    render: ScriptedRender, api: httpx.AsyncClient
) -> None:
    render.reply("RenderFinalClip", render_pb2.RenderFinalClipResponse(job=render_pb2.Job(id="job-9")))
    settings = '{"fontSize": 60, "fontFamily": "\'Inter\', Arial, sans-serif", "textColor": "#FFCC00", "other": 1}'
    reply = await api.post(
        CLIP_RENDER,
        data={"preset_name": "youtube_shorts", "subtitle_settings": settings, "enable_glow": "true", "glow_blur": "4"},
    )
    assert reply.status_code == 202, reply.text
    assert reply.json() == {"status": "processing", "clip_id": "c-1", "preset": "youtube_shorts", "job_id": "job-9"}
    request = render.calls[-1][1]
    assert request.preset_name == "youtube_shorts"
    style = request.subtitle_settings
    assert (style.font_size, style.font_family, style.text_color) == (60, "Inter", "#FFCC00")
    assert style.enable_glow and style.glow_blur == 4


async def test_job_fields_are_checked_before_anything_starts(
    render: ScriptedRender, api: httpx.AsyncClient, data_dir: Path
) -> None:
    body, content_type = encode({"variant_count": "11"}, {"video": ("a.mp4", FAKE_MP4_HEAD)})
    reply = await api.post("/api/v1/jobs", content=body, headers={"Content-Type": content_type})
    assert reply.status_code == 400
    assert "variant_count" in reply.json()["detail"]
    assert render.calls == []
    assert stored_files(data_dir) == []


async def test_an_accepted_job_upload_is_handed_to_render_by_key(
    render: ScriptedRender, api: httpx.AsyncClient, data_dir: Path
) -> None:
    render.reply(
        "ProcessVideo",
        render_pb2.ProcessVideoResponse(job=render_pb2.Job(id="job-1", status=render_pb2.JOB_STATUS_QUEUED)),
    )
    video = FAKE_MP4_HEAD + bytes(range(256)) * 1000
    body, content_type = encode(
        {"variant_count": "2", "subtitle_settings": '{"positionY": 70}', "generate_audio": "true"},
        {"video": ("clip.mov", video), "srt": ("subs.srt", b"1\n00:00:00,000 --> 00:00:01,000\nHello\n")},
    )
    reply = await api.post("/api/v1/jobs", content=body, headers={"Content-Type": content_type})
    assert reply.status_code == 202, reply.text
    assert reply.json()["job_id"] == "job-1" and reply.json()["status"] == "pending"
    request = render.calls[-1][1]
    assert request.video_key.startswith("uploads/") and request.video_key.endswith(".mov")
    assert (data_dir / "media" / request.video_key).read_bytes() == video
    assert request.srt_key.endswith(".srt") and request.audio_key == ""
    assert request.variant_count == 2 and request.generate_audio
    assert request.subtitle_settings.position_y == 70


# ----------------------------------------------------------------------------- downloads


async def test_downloads_support_ranges(render: ScriptedRender, api: httpx.AsyncClient, data_dir: Path) -> None:
    payload = bytes(range(256)) * 40
    (data_dir / "media" / "outputs").mkdir(parents=True)
    (data_dir / "media" / "outputs" / "final.mp4").write_bytes(payload)
    render.reply(
        "GetJob",
        render_pb2.GetJobResponse(
            job=render_pb2.Job(id="j-1", status=render_pb2.JOB_STATUS_SUCCEEDED, output_keys=["outputs/final.mp4"])
        ),
    )
    whole = await api.get("/api/v1/jobs/j-1/download")
    assert whole.status_code == 200 and whole.content == payload
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.headers["accept-ranges"] == "bytes"
    part = await api.get("/api/v1/jobs/j-1/download", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.content == payload[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(payload)}"
    beyond = await api.get("/api/v1/jobs/j-1/download", headers={"Range": f"bytes={len(payload) + 10}-"})
    assert beyond.status_code == 416


async def test_a_download_of_an_unfinished_job_is_404(render: ScriptedRender, api: httpx.AsyncClient) -> None:
    render.reply("GetJob", render_pb2.GetJobResponse(job=render_pb2.Job(id="j", status=render_pb2.JOB_STATUS_RUNNING)))
    reply = await api.get("/api/v1/jobs/j/download")
    assert reply.status_code == 404
    assert reply.json()["error"]["reason"] == "OUTPUT_NOT_READY"


# ----------------------------------------------------------------------------- rate limit


async def test_job_starts_are_rate_limited_per_client(
    render: ScriptedRender, data_dir: Path, redis_url: str, redis_prefix: str
) -> None:
    render.reply("RenderFinalClip", render_pb2.RenderFinalClipResponse(job=render_pb2.Job(id="j")))
    env = gateway_env(
        data_dir, redis_url, redis_prefix, EDITAI_RENDER_ADDR=render.address, EDITAI_RATE_LIMIT_PER_MINUTE="3"
    )
    async with in_process_gateway(env) as (_, api):
        for _ in range(3):
            assert (await api.post(CLIP_RENDER, data={}, headers={"X-Profile-Id": "a"})).status_code == 202
        limited = await api.post(CLIP_RENDER, data={}, headers={"X-Profile-Id": "a"})
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert limited.json()["error"]["reason"] == "RATE_LIMITED"
        other = await api.post(CLIP_RENDER, data={}, headers={"X-Profile-Id": "b"})
        assert other.status_code == 202, "another client has its own budget"
        assert (await api.get("/api/v1/library/projects/x", headers={"X-Profile-Id": "a"})).status_code != 429


# ----------------------------------------------------------------------------- auth


async def test_tokens_are_checked(render: ScriptedRender, data_dir: Path, redis_url: str, redis_prefix: str) -> None:
    render.reply("GetProject", render_pb2.GetProjectResponse(project=render_pb2.Project(id="p")))
    env = gateway_env(data_dir, redis_url, redis_prefix, EDITAI_RENDER_ADDR=render.address, EDITAI_AUTH="jwt")
    async with in_process_gateway(env) as (_, api):
        url = "/api/v1/library/projects/p"
        assert (await api.get(url)).status_code == 401, "no token outside dev mode"
        expired = await api.get(url, headers=bearer("alice", expires_in=-60))
        assert expired.status_code == 401 and expired.json()["error"]["reason"] == "TOKEN_EXPIRED"
        forged = await api.get(url, headers=bearer("alice", secret="another-secret-of-at-least-32-bytes!!"))
        assert forged.status_code == 401
        assert (await api.get(url, headers={"Authorization": "Bearer not-a-jwt"})).status_code == 401
        assert (await api.get(url, headers=bearer("alice"))).status_code == 200
        assert render.calls[-1][2]["x-profile-id"] == "alice"
        other = await api.get(url, headers={**bearer("alice"), "X-Profile-Id": "bob"})
        assert other.status_code == 403, "a token acts only as the profiles it lists"
        allowed = await api.get(url, headers={**bearer("alice", profiles=["bob"]), "X-Profile-Id": "bob"})
        assert allowed.status_code == 200
        assert render.calls[-1][2]["x-profile-id"] == "bob"


async def test_dev_mode_without_a_token_acts_as_the_local_profile(
    render: ScriptedRender, api: httpx.AsyncClient
) -> None:
    render.reply("ListProjects", render_pb2.ListProjectsResponse())
    assert (await api.get("/api/v1/library/projects")).json() == []
    assert render.calls[-1][2]["x-profile-id"] == "local"
