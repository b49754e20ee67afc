"""Per-client limit on job-starting requests: a fixed one-minute window in Redis.

One Lua script counts and sets the window's expiry atomically, so every gateway
replica shares the count and no key outlives its window. When Redis is down the
limiter lets requests through (logged): losing the limit briefly is better than
refusing every job.
"""

from __future__ import annotations

import logging
import math

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from editai_common.redis_client import KeySpace
from services.gateway.errors import ApiError

log = logging.getLogger("gateway.rate_limit")
WINDOW_SECONDS = 60

# KEYS[1] = the client's counter; ARGV[1] = window ms. Returns {count, ms left in the window}.
_COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}
"""


class RateLimiter:
    def __init__(self, redis: aioredis.Redis, keys: KeySpace, per_minute: int) -> None:
        self.per_minute = per_minute
        self._keys = keys
        self._script = redis.register_script(_COUNT_SCRIPT)

    async def check(self, client: str) -> None:
        """Counts one job-starting request of `client`; over the limit → 429 with Retry-After."""
        if self.per_minute <= 0:
            return
        try:
            count, ttl_ms = await self._script(keys=[self._keys.key("rate", client)], args=[WINDOW_SECONDS * 1000])
        except RedisError as exc:
            log.warning("rate limiter unavailable, request allowed: %s", exc)
            return
        if int(count) > self.per_minute:
            retry_after = max(1, math.ceil(int(ttl_ms) / 1000))
            raise ApiError(
                429,
                f"Too many job requests: at most {self.per_minute} per minute. Retry in {retry_after} s.",
                reason="RATE_LIMITED",
                headers={"Retry-After": str(retry_after)},
            )
