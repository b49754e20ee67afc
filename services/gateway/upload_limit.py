"""Refuse an oversized request body before a single byte of it is read (guarantee 7).

A pure ASGI middleware: it looks only at the declared `Content-Length` header and
answers 413 without ever calling `receive`, so the body stays in the socket. Bodies
without a declared length (chunked) or that lie about it are cut off by the
upload reader's own count (`uploads.py`), not here.
"""

from __future__ import annotations

import json
from typing import Any

from services.gateway.errors import error_body

UPLOAD_TOO_LARGE = "UPLOAD_TOO_LARGE"


def too_large_detail(limit_bytes: int) -> str:
    return f"The upload is larger than the limit of {limit_bytes // (1024 * 1024)} MiB."


def too_large_body(limit_bytes: int) -> bytes:
    body = error_body(
        413, too_large_detail(limit_bytes), status_name="OUT_OF_RANGE", reason=UPLOAD_TOO_LARGE, details=[]
    )
    return json.dumps(body).encode()


class UploadLimitMiddleware:
    def __init__(self, app: Any, *, limit_bytes: int) -> None:
        self.app = app
        self.limit_bytes = limit_bytes
        self._body = too_large_body(limit_bytes)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and self._declared_too_large(scope):
            await send(
                {
                    "type": "http.response.start",
                    "status": 413,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(self._body)).encode()),
                        # The unread body makes the connection unusable for another request.
                        (b"connection", b"close"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": self._body})
            return
        await self.app(scope, receive, send)

    def _declared_too_large(self, scope: dict[str, Any]) -> bool:
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    return int(value) > self.limit_bytes
                except ValueError:
                    return False  # h11 refuses malformed lengths before we see them
        return False
