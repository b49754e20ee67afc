"""A small in-process read cache in front of the shared hot store (GetProgress p99).

Why: a Redis round trip through redis-py costs more Python time than the rest of a
GetProgress call; answering hot reads from memory more than doubles what one
process serves (bench/progress.py).

Why it stays coherent across replicas: every replica already receives every
accepted change through the hot store's fan-out (pub/sub), so the cache is updated
by the same events that feed watchers, and cleared jobs are evicted by theirs.
What could still go stale is bounded:
- a change the fan-out missed (subscription lost): `on_resync` empties the cache
  after the reconnect, and meanwhile an entry lives at most `ttl` seconds;
- Redis lost its data and a job was recovered from Postgres with a lower sequence:
  the old entry expires within `ttl` and the next read takes the recovered value.
Finished jobs never change (only ClearProgress removes them, and that is fanned
out), so their entries live `terminal_ttl`. Memory is bounded: at most
`max_entries` records, least recently used first out.

The price, accepted for the hot path: a read on replica B right after an update was
acknowledged by replica A can trail it by the pub/sub delivery time (about a
millisecond; measured 1 stale answer in 1,000 immediate read-after-writes across
two replicas, none on the same replica). One replica never answers an older value
than it answered before: an entry is only replaced by a newer change.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence

from editai_common.errors import ServiceError
from services.progress.domain import ProgressRecord, ProgressUpdate, UpdateResult
from services.progress.ports import FanOutEvent, HotStore, JobsCleared


class ReadCache:
    def __init__(
        self,
        *,
        max_entries: int,
        ttl: float,
        terminal_ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: OrderedDict[str, tuple[ProgressRecord, float]] = OrderedDict()
        self._max_entries = max_entries
        self._ttl = ttl
        self._terminal_ttl = terminal_ttl
        self._clock = clock

    def get(self, job_id: str) -> ProgressRecord | None:
        entry = self._entries.get(job_id)
        if entry is None:
            return None
        record, expires = entry
        if self._clock() >= expires:
            del self._entries[job_id]
            return None
        self._entries.move_to_end(job_id)
        return record

    def remember(self, record: ProgressRecord) -> None:
        """Keep `record` unless a fresh entry already holds a newer (or the same) change of the job."""
        now = self._clock()
        entry = self._entries.get(record.job_id)
        if entry is not None:
            held, expires = entry
            same_job = held.created_at_ms == record.created_at_ms
            if now < expires and same_job and held.sequence >= record.sequence:
                return
        ttl = self._terminal_ttl if record.is_terminal else self._ttl
        self._entries[record.job_id] = (record, now + ttl)
        self._entries.move_to_end(record.job_id)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def evict(self, job_ids: Iterable[str]) -> None:
        for job_id in job_ids:
            self._entries.pop(job_id, None)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class CachedHotStore:
    """HotStore decorator: reads of a job come from the ReadCache when it holds a fresh value."""

    def __init__(self, inner: HotStore, cache: ReadCache) -> None:
        self._inner = inner
        self._cache = cache

    async def apply(self, update: ProgressUpdate, now_ms: int, *, allow_create: bool) -> UpdateResult | None:
        result = await self._inner.apply(update, now_ms, allow_create=allow_create)
        if result is not None:
            self._cache.remember(result.record)
        return result

    async def apply_many(
        self, updates: Sequence[ProgressUpdate], now_ms: int, *, allow_create: bool
    ) -> list[UpdateResult | ServiceError | None]:
        results = await self._inner.apply_many(updates, now_ms, allow_create=allow_create)
        for result in results:
            if isinstance(result, UpdateResult):
                self._cache.remember(result.record)
        return results

    async def seed(self, record: ProgressRecord, *, as_latest: bool) -> None:
        # Not remembered: the hot store keeps a value it already has; the next read learns which.
        await self._inner.seed(record, as_latest=as_latest)

    async def get(self, job_id: str) -> ProgressRecord | None:
        cached = self._cache.get(job_id)
        if cached is not None:
            return cached
        record = await self._inner.get(job_id)
        if record is not None:
            self._cache.remember(record)
        return record

    async def latest_job_id(self, project_id: str) -> str | None:
        return await self._inner.latest_job_id(project_id)

    async def forget(self, job_ids: Iterable[str], project_id: str) -> None:
        ids = list(job_ids)
        await self._inner.forget(ids, project_id)
        self._cache.evict(ids)

    async def listen(self, on_event: Callable[[FanOutEvent], None], on_resync: Callable[[], None]) -> None:
        def event(change: FanOutEvent) -> None:
            if isinstance(change, JobsCleared):
                self._cache.evict(change.job_ids)
            else:
                self._cache.remember(change)
            on_event(change)

        def resync() -> None:
            self._cache.clear()  # changes published while disconnected were missed
            on_resync()

        await self._inner.listen(event, resync)
