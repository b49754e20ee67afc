"""Redis through redis-py's asyncio client, with one key prefix per deployment.

Tests give every run its own prefix so that runs sharing a Redis never collide.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis


def connect_redis(url: str, *, max_connections: int = 64) -> aioredis.Redis:
    return aioredis.Redis.from_url(
        url,
        max_connections=max_connections,
        socket_connect_timeout=2.0,
        socket_timeout=5.0,
        health_check_interval=15,
        decode_responses=False,
    )


@dataclass(frozen=True)
class KeySpace:
    """Builds namespaced Redis keys: KeySpace("editai:", "progress").key("job", id)."""

    prefix: str
    service: str

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix.rstrip(":"), self.service, *parts))

    def pattern(self) -> str:
        return self.key("*")
