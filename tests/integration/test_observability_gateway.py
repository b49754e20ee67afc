"""A request id given to the gateway reaches the logs of every service that handled it.

The gateway app runs in the test process (its own lifespan, its real backend channels);
render, tts and progress are real processes. `/readyz` calls all three, so one HTTP
request fans out to three services.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from editai_common.observability import install_http_observability
from services.gateway.app import create_app
from services.gateway.config import Settings
from tests.conftest import StartService
from tests.support.processes import ServiceProcess

BACKENDS = ("progress", "tts", "render")


@pytest.fixture
async def gateway(
    start_service: StartService, base_env: dict[str, str]
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, ServiceProcess]]]:
    processes = {name: start_service(name, EDITAI_LOG_LEVEL="DEBUG") for name in BACKENDS}
    env = {**base_env, **{f"EDITAI_{name.upper()}_ADDR": processes[name].address for name in BACKENDS}}
    app = create_app(Settings.from_env(env))
    install_http_observability(app, env=env)  # a no-op once create_app installs it itself
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client, processes


async def test_a_request_id_given_to_the_gateway_is_in_every_backends_logs(
    gateway: tuple[httpx.AsyncClient, dict[str, ServiceProcess]],
) -> None:
    client, processes = gateway
    reply = await client.get("/readyz", headers={"X-Request-Id": "gw-req-0042"})
    assert reply.status_code == 200, reply.text
    assert reply.headers["x-request-id"] == "gw-req-0042"
    for name, process in processes.items():
        found = process.wait_for_log_entries(request_id="gw-req-0042")
        assert found, f"{name} logged nothing for the request:\n{process.logs()[-1500:]}"
        assert any(line.get("rpc") == "grpc.health.v1.Health/Check" for line in found), found
    trace_ids = {p.wait_for_log_entries(request_id="gw-req-0042")[0].get("trace_id") for p in processes.values()}
    assert len(trace_ids) == 1 and None not in trace_ids, "one trace across the fan-out"


async def test_gateway_metrics_count_requests_by_route(
    gateway: tuple[httpx.AsyncClient, dict[str, ServiceProcess]],
) -> None:
    client, _ = gateway
    await client.get("/healthz")
    text = (await client.get("/metrics")).text
    counted = {
        (s.labels["route"], s.labels["status"]): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "editai_http_requests_total"
    }
    assert counted.get(("/healthz", "200"), 0) >= 1, counted
