"""DESIGN.md §4: every gRPC status a backend answers becomes the right HTTP status and JSON body.

The gateway runs in-process with its real channels; the render service is a scripted
grpc.aio server on loopback that answers each code with the shared rich error model.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import pytest

from editai.render.v1 import render_pb2
from editai_common import errors
from tests.gateway_support.in_process import gateway_env, in_process_gateway
from tests.gateway_support.scripted_render import ScriptedRender, scripted_render

PROJECT = "/api/v1/library/projects/p-1"


@pytest.fixture
async def render() -> AsyncIterator[ScriptedRender]:
    async with scripted_render() as script:
        yield script


@pytest.fixture
async def api(
    render: ScriptedRender, data_dir: Path, redis_url: str, redis_prefix: str
) -> AsyncIterator[httpx.AsyncClient]:
    env = gateway_env(
        data_dir, redis_url, redis_prefix, EDITAI_RENDER_ADDR=render.address, EDITAI_GATEWAY_RPC_TIMEOUT_SECONDS="0.5"
    )
    async with in_process_gateway(env) as (_, client):
        yield client


def assert_error_shape(reply: httpx.Response, http_status: int, status_name: str) -> dict:
    assert reply.status_code == http_status, reply.text
    body = reply.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["error"]["code"] == http_status
    assert body["error"]["status"] == status_name
    assert isinstance(body["error"]["reason"], str) and body["error"]["reason"]
    assert isinstance(body["error"]["details"], list)
    return body


RICH_ERRORS = [
    (errors.InvalidArgument("bad name", violations=[errors.FieldViolation("name", "empty")]), 400),
    (errors.FailedPrecondition("no segments"), 400),
    (errors.Unauthenticated("who are you"), 401),
    (errors.PermissionDenied("not yours"), 403),
    (errors.NotFound("no such project"), 404),
    (errors.AlreadyExists("exists"), 409),
    (errors.Aborted("lost a race"), 409),
    (errors.ResourceExhausted("slow down", retry_after_seconds=7), 429),
    (errors.Cancelled("cancelled"), 499),
    (errors.Unavailable("database down"), 503),
    (errors.DeadlineExceeded("too slow"), 504),
    (errors.Internal("secret stack trace here"), 500),
]


@pytest.mark.parametrize(("error", "http_status"), RICH_ERRORS, ids=lambda v: getattr(v, "reason", str(v)))
async def test_each_rich_error_maps_as_designed(
    render: ScriptedRender, api: httpx.AsyncClient, error: errors.ServiceError, http_status: int
) -> None:
    render.fail("GetProject", error)
    body = assert_error_shape(await api.get(PROJECT), http_status, error.code.name)
    assert body["error"]["reason"] == error.reason
    if http_status == 500:
        assert "secret" not in body["detail"], "internals never reach the client"
    else:
        assert body["detail"] == error.message


PLAIN_CODES = [
    (grpc.StatusCode.OUT_OF_RANGE, 400),
    (grpc.StatusCode.UNIMPLEMENTED, 501),
    (grpc.StatusCode.UNKNOWN, 500),
    (grpc.StatusCode.DATA_LOSS, 500),
    (grpc.StatusCode.INTERNAL, 500),
]


@pytest.mark.parametrize(("code", "http_status"), PLAIN_CODES, ids=lambda v: getattr(v, "name", str(v)))
async def test_each_plain_status_code_maps_as_designed(
    render: ScriptedRender, api: httpx.AsyncClient, code: grpc.StatusCode, http_status: int
) -> None:
    render.fail_plain("GetProject", code, "Traceback (most recent call last): boom")
    body = assert_error_shape(await api.get(PROJECT), http_status, code.name)
    if http_status == 500:
        assert "Traceback" not in reply_text(body)


def reply_text(body: dict) -> str:
    return str(body)


async def test_the_table_covers_every_code_of_the_design() -> None:
    covered = {e.code for e, _ in RICH_ERRORS} | {c for c, _ in PLAIN_CODES}
    assert covered == set(errors.HTTP_STATUS_BY_CODE) - {grpc.StatusCode.OK}


async def test_a_busy_project_is_409_naming_the_running_job(render: ScriptedRender, api: httpx.AsyncClient) -> None:
    render.fail("GenerateFromSegments", errors.ProjectLocked("p-1", "job-42"))
    reply = await api.post(f"{PROJECT}/generate-from-segments", json={})
    body = assert_error_shape(reply, 409, "ABORTED")
    assert body["error"]["reason"] == "PROJECT_LOCKED"
    assert body["job_id"] == "job-42"
    assert "job-42" in body["detail"]


async def test_resource_exhausted_says_when_to_retry(render: ScriptedRender, api: httpx.AsyncClient) -> None:
    render.fail("GetProject", errors.ResourceExhausted("busy", retry_after_seconds=7))
    reply = await api.get(PROJECT)
    assert reply.status_code == 429
    assert reply.headers["retry-after"] == "7"


async def test_a_backend_that_does_not_answer_in_time_is_504(render: ScriptedRender, api: httpx.AsyncClient) -> None:
    render.stall("GetProject", 2.0)
    body = assert_error_shape(await api.get(PROJECT), 504, "DEADLINE_EXCEEDED")
    assert "in time" in body["detail"]


async def test_an_unreachable_backend_is_503(api: httpx.AsyncClient) -> None:
    # tts points at a port nothing listens on.
    body = assert_error_shape(await api.get("/api/v1/tts/voices"), 503, "UNAVAILABLE")
    assert "unavailable" in body["detail"]


async def test_bad_parameters_are_400_listing_the_fields_not_422(
    render: ScriptedRender, api: httpx.AsyncClient
) -> None:
    reply = await api.post("/api/v1/library/projects", json={"target_duration": "long"})
    body = assert_error_shape(reply, 400, "INVALID_ARGUMENT")
    assert "name" in body["detail"] and "target_duration" in body["detail"]
    assert render.calls == []


async def test_malformed_json_body_is_400(api: httpx.AsyncClient) -> None:
    reply = await api.post("/api/v1/library/projects", content=b"{bad", headers={"Content-Type": "application/json"})
    assert_error_shape(reply, 400, "INVALID_ARGUMENT")


async def test_unknown_paths_answer_the_same_json_shape(api: httpx.AsyncClient) -> None:
    assert_error_shape(await api.get("/api/v1/nothing-here"), 404, "NOT_FOUND")


async def test_idempotency_key_and_profile_reach_the_service(render: ScriptedRender, api: httpx.AsyncClient) -> None:
    render.reply(
        "GenerateFromSegments",
        render_pb2.GenerateFromSegmentsResponse(job=render_pb2.Job(id="job-7"), segments_count=4),
    )
    reply = await api.post(
        f"{PROJECT}/generate-from-segments",
        json={"variant_count": 2, "selection_mode": "weighted"},
        headers={"Idempotency-Key": "click-123", "X-Profile-Id": "alice"},
    )
    assert reply.status_code == 202, reply.text
    assert reply.json() == {
        "status": "generating",
        "project_id": "p-1",
        "variant_count": 2,
        "segments_count": 4,
        "job_id": "job-7",
    }
    name, request, metadata = render.calls[-1]
    assert name == "GenerateFromSegments"
    assert request.request_id == "click-123"
    assert request.selection_mode == render_pb2.SELECTION_MODE_WEIGHTED
    assert metadata["x-profile-id"] == "alice"
