"""Job delivery over a Redis stream consumer group, and the cancel signal over pub/sub.

The stream carries job ids only; Postgres decides what runs (a claim is a fenced
UPDATE), so a duplicate delivery is harmless. A worker acknowledges and deletes an
entry as soon as its claim is decided; from then on the job's lease in Postgres tracks
the worker. An entry read by a worker that died before deciding stays pending and is
taken over with XAUTOCLAIM once it has been idle for `reclaim_idle_seconds`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from editai_common.redis_client import KeySpace

log = logging.getLogger("editai.render.queue")

GROUP = "render-workers"


@dataclass(frozen=True)
class Delivery:
    entry_id: bytes
    job_id: str


class RedisJobQueue:
    def __init__(self, client: aioredis.Redis, keys: KeySpace, *, reclaim_idle_seconds: float) -> None:
        self._redis = client
        self.stream = keys.key("jobs")
        self._reclaim_idle_ms = int(reclaim_idle_seconds * 1000)

    async def ensure_group(self) -> None:
        try:
            await self._redis.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def enqueue(self, job_id: str) -> None:
        await self._redis.xadd(self.stream, {"job_id": job_id})

    async def next_delivery(self, consumer: str, *, block_seconds: float) -> Delivery | None:
        """An entry left by a dead consumer, else a new one (waits up to `block_seconds`)."""
        try:
            reclaimed: Any = await self._redis.xautoclaim(
                self.stream, GROUP, consumer, min_idle_time=self._reclaim_idle_ms, start_id="0-0", count=1
            )
            claimed = reclaimed[1]
            if claimed:
                return self._delivery(claimed[0])
            answer: Any = await self._redis.xreadgroup(
                GROUP, consumer, {self.stream: ">"}, count=1, block=int(block_seconds * 1000)
            )
        except ResponseError as error:
            if "NOGROUP" in str(error):  # the stream was deleted under us (tests, an operator)
                await self.ensure_group()
                return None
            raise
        for _stream, entries in answer or ():
            for entry in entries:
                return self._delivery(entry)
        return None

    @staticmethod
    def _delivery(entry: tuple[bytes, dict[bytes, bytes]]) -> Delivery:
        entry_id, fields = entry
        return Delivery(entry_id=entry_id, job_id=(fields or {}).get(b"job_id", b"").decode())

    async def done(self, delivery: Delivery) -> None:
        """The claim is decided: the entry leaves the group and the stream."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xack(self.stream, GROUP, delivery.entry_id)
            pipe.xdel(self.stream, delivery.entry_id)
            await pipe.execute()

    async def remove_consumer(self, consumer: str) -> None:
        with contextlib.suppress(RedisError):
            await self._redis.xgroup_delconsumer(self.stream, GROUP, consumer)

    async def forget_idle_consumers(self, *, idle_seconds: float) -> int:
        """Drops consumers of dead processes once they hold nothing (no per-worker entry accumulates)."""
        removed = 0
        try:
            consumers = await self._redis.xinfo_consumers(self.stream, GROUP)
        except ResponseError:
            return 0
        for consumer in consumers:
            if consumer["pending"] == 0 and consumer["idle"] > idle_seconds * 1000:
                name = consumer["name"]
                await self._redis.xgroup_delconsumer(self.stream, GROUP, name)
                removed += 1
        return removed


class RedisCancelBus:
    """Tells every render process to stop a job now (the lease loop is the slower fallback)."""

    def __init__(self, client: aioredis.Redis, keys: KeySpace) -> None:
        self._redis = client
        self.channel = keys.key("cancel")

    async def announce(self, job_id: str) -> None:
        try:
            await self._redis.publish(self.channel, job_id)
        except RedisError as error:
            # The owning worker still notices within one lease renewal.
            log.warning("cancel announcement failed", extra={"job_id": job_id, "error": str(error)})

    async def listen(self, on_cancel: Callable[[str], Awaitable[None]], ready: asyncio.Event | None = None) -> None:
        """Calls `on_cancel(job_id)` for every announcement until cancelled; resubscribes after errors."""
        while True:
            try:
                async for job_id in self._messages(ready):
                    await on_cancel(job_id)
            except RedisError as error:
                log.warning("cancel subscription lost; resubscribing", extra={"error": str(error)})
                await asyncio.sleep(1.0)

    async def _messages(self, ready: asyncio.Event | None) -> AsyncIterator[str]:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self.channel)
            if ready is not None:
                ready.set()
            while True:
                message = await pubsub.get_message(timeout=1.0)
                if message is not None and message.get("type") == "message":
                    yield message["data"].decode()
        finally:
            with contextlib.suppress(RedisError, RuntimeError):
                await pubsub.aclose()
