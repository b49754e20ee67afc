"""Guarantee 7, first half: a declared Content-Length over the limit is answered 413 without reading the body."""

from __future__ import annotations

import json
from typing import Any

from services.gateway.upload_limit import UploadLimitMiddleware

LIMIT = 500 * 1024 * 1024


async def run(headers: list[tuple[bytes, bytes]]) -> tuple[list[dict[str, Any]], int, bool]:
    sent: list[dict[str, Any]] = []
    reads = 0
    app_called = False

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        nonlocal app_called
        app_called = True

    async def receive() -> dict[str, Any]:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b"x", "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/api/v1/jobs", "headers": headers}
    await UploadLimitMiddleware(app, limit_bytes=LIMIT)(scope, receive, send)
    return sent, reads, app_called


async def test_an_oversized_declared_body_is_refused_without_a_single_read() -> None:
    sent, reads, app_called = await run([(b"content-length", str(LIMIT + 1).encode())])
    assert reads == 0 and not app_called
    assert sent[0]["status"] == 413
    assert (b"connection", b"close") in sent[0]["headers"]
    body = json.loads(sent[1]["body"])
    assert body["error"] == {"code": 413, "status": "OUT_OF_RANGE", "reason": "UPLOAD_TOO_LARGE", "details": []}
    assert body["detail"] == "The upload is larger than the limit of 500 MiB."


async def test_bodies_within_the_limit_or_without_a_length_reach_the_app() -> None:
    for headers in ([(b"content-length", str(LIMIT).encode())], [(b"transfer-encoding", b"chunked")], []):
        sent, _, app_called = await run(headers)
        assert app_called and sent == []
