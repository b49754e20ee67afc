"""Reading a Server-Sent Events stream the way a browser's EventSource does."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Event:
    event: str
    id: str | None
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


async def events(response: httpx.Response) -> AsyncIterator[Event]:
    """Events until the server closes the stream; comments (heartbeats) are skipped."""
    kind: str = "message"
    event_id: str | None = None
    data: list[str] = []
    async for line in response.aiter_lines():
        line = line.rstrip("\r")
        if not line:
            if data:
                yield Event(kind, event_id, "\n".join(data))
            kind, event_id, data = "message", None, []
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                kind = value
            elif name == "id":
                event_id = value
            elif name == "data":
                data.append(value)
