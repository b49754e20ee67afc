"""The gateway's observability: per-route metrics, X-Request-Id, /metrics — on a small FastAPI app."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from editai_common.logs import current_log_context
from editai_common.observability import install_http_observability


@pytest.fixture
def app() -> FastAPI:
    app = FastAPI()

    @app.get("/api/v1/library/projects/{project_id}")
    async def project(project_id: str) -> dict[str, Any]:
        logging.getLogger("editai.test").info("answering")
        return {"id": project_id, "request_id": current_log_context().get("request_id")}

    install_http_observability(app, env={})
    return app


def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


async def test_requests_are_counted_by_route_template_not_by_path(app: FastAPI) -> None:
    async with client_for(app) as client:
        await client.get("/api/v1/library/projects/p-1")
        await client.get("/api/v1/library/projects/p-2")
        await client.get("/no/such/path/abc123")
        text = (await client.get("/metrics")).text
    counted = samples(text, "editai_http_requests_total")
    template = (("method", "GET"), ("route", "/api/v1/library/projects/{project_id}"), ("status", "200"))
    assert counted[template] >= 2
    assert counted[(("method", "GET"), ("route", "unmatched"), ("status", "404"))] >= 1
    assert not any("p-1" in value or "abc123" in value for labels in counted for _, value in labels)


async def test_the_request_id_from_the_client_is_used_and_echoed(app: FastAPI) -> None:
    async with client_for(app) as client:
        reply = await client.get("/api/v1/library/projects/p-1", headers={"X-Request-Id": "client-id-1"})
    assert reply.headers["x-request-id"] == "client-id-1"
    assert reply.json()["request_id"] == "client-id-1"


async def test_a_missing_or_hostile_request_id_gets_a_fresh_one(app: FastAPI) -> None:
    async with client_for(app) as client:
        plain = await client.get("/api/v1/library/projects/p-1")
        hostile = await client.get("/api/v1/library/projects/p-1", headers={"X-Request-Id": 'a b"c' + "x" * 500})
    for reply in (plain, hostile):
        assert len(reply.headers["x-request-id"]) == 32
        assert reply.json()["request_id"] == reply.headers["x-request-id"]
    assert plain.headers["x-request-id"] != hostile.headers["x-request-id"]


async def test_metrics_endpoint_serves_prometheus_text(app: FastAPI) -> None:
    async with client_for(app) as client:
        reply = await client.get("/metrics")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain")
    assert "# HELP editai_http_requests_total" in reply.text


async def test_a_failed_request_is_logged_once(app: FastAPI, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="editai.http")
    async with client_for(app) as client:
        await client.get("/no/such/route", headers={"X-Request-Id": "lost-1"})
    finished = [r for r in caplog.records if r.getMessage() == "http finished"]
    assert len(finished) == 1
    assert (finished[0].route, finished[0].status) == ("unmatched", 404)  # type: ignore[attr-defined]
