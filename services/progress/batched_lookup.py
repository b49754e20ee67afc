"""Coalescing point lookups: callers asking at the same time share one query.

A burst of new jobs (every first update asks Postgres whether the job is really
new, see tracker) becomes a few `WHERE job_id = ANY(...)` queries instead of one
query, and one pooled connection, per job.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Generic, TypeVar

Value = TypeVar("Value")


class BatchedLookup(Generic[Value]):
    def __init__(self, fetch_many: Callable[[list[str]], Awaitable[Mapping[str, Value]]]) -> None:
        self._fetch_many = fetch_many
        self._waiting: dict[str, asyncio.Future[Value | None]] = {}
        self._runner: asyncio.Task[None] | None = None

    async def get(self, key: str) -> Value | None:
        future = self._waiting.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._waiting[key] = future
        if self._runner is None:
            self._runner = asyncio.create_task(self._run())
        # Shielded: one caller giving up must not cancel the answer others share.
        return await asyncio.shield(future)

    async def _run(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, {}
                try:
                    found = await self._fetch_many(list(batch))
                except Exception as error:  # handed to every waiter, who re-raises it
                    for future in batch.values():
                        if not future.done():
                            future.set_exception(error)
                    continue
                for key, future in batch.items():
                    if not future.done():
                        future.set_result(found.get(key))
        finally:
            self._runner = None
