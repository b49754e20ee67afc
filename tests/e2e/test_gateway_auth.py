"""Guarantee 10 (owners only) with real bearer tokens, through the real gateway and render."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import StartService
from tests.gateway_support.stack import GatewayStack, bearer, start_gateway_stack

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack(start_service: StartService, data_dir: Path) -> GatewayStack:
    return start_gateway_stack(start_service, data_dir, EDITAI_AUTH="jwt")


@pytest.fixture
async def api(stack: GatewayStack) -> AsyncIterator[httpx.AsyncClient]:
    async with stack.client() as client:
        yield client


async def test_tokens_scope_every_call_to_their_profile(api: httpx.AsyncClient) -> None:
    created = await api.post("/api/v1/library/projects", json={"name": "alice's"}, headers=bearer("alice"))
    assert created.status_code == 201, created.text
    project = created.json()["id"]
    url = f"/api/v1/library/projects/{project}"

    assert (await api.get(url, headers=bearer("alice"))).status_code == 200
    assert (await api.get(url, headers=bearer("bob"))).status_code == 404
    assert project not in {p["id"] for p in (await api.get("/api/v1/library/projects", headers=bearer("bob"))).json()}
    # A token that lists alice's profile may act as her (a team member).
    team = {**bearer("bob", profiles=["alice"]), "X-Profile-Id": "alice"}
    assert (await api.get(url, headers=team)).status_code == 200
    assert (await api.get(url, headers={**bearer("bob"), "X-Profile-Id": "alice"})).status_code == 403


async def test_missing_expired_or_forged_tokens_are_401(api: httpx.AsyncClient) -> None:
    url = "/api/v1/library/projects"
    assert (await api.get(url)).status_code == 401
    expired = await api.get(url, headers=bearer("alice", expires_in=-5))
    assert expired.status_code == 401 and expired.json()["error"]["reason"] == "TOKEN_EXPIRED"
    forged = await api.get(url, headers=bearer("alice", secret="somebody-elses-secret-of-32-bytes-or-more"))
    assert forged.status_code == 401 and forged.headers["www-authenticate"].startswith("Bearer")
    assert (await api.get("/healthz")).status_code == 200, "health needs no token"
