"""Write-behind of non-terminal progress to Postgres.

The promise: every `interval` seconds (≤ 250 ms) the newest value of each job
changed since the last flush is written in ONE multi-row upsert. So after a crash
(SIGKILL) the durable value is at most one interval older than the last
acknowledged update. When Postgres is down the pending values stay here (newest
per job, so memory is bounded by the number of active jobs), flushes back off
exponentially and the values reach Postgres when it returns.

Terminal states must be durable before they are acknowledged: `make_durable` wakes
the flusher at once and waits for a flush that includes the record. Callers that
arrive while a flush is running share the next one (group commit), so a burst of
1,000 finishing jobs costs a handful of statements, not 1,000 commits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable

from editai_common.metrics import PROGRESS_FLUSH_LAG, PROGRESS_PENDING_WRITES
from services.progress.domain import ProgressRecord
from services.progress.ports import DurableStore, StoreUnavailable
from services.progress.readiness import DatabaseReadiness

log = logging.getLogger("editai.progress.write_behind")


class WriteBehind:
    def __init__(
        self,
        durable: DurableStore,
        readiness: DatabaseReadiness,
        *,
        interval: float,
        max_backoff: float = 2.0,
    ) -> None:
        self._durable = durable
        self._readiness = readiness
        self._interval = interval
        self._max_backoff = max_backoff
        self._pending: dict[str, ProgressRecord] = {}
        self._waiters: list[asyncio.Future[None]] = []
        self._flush_lock = asyncio.Lock()
        self._wakeup = asyncio.Event()

    def add(self, record: ProgressRecord) -> None:
        current = self._pending.get(record.job_id)
        if current is None or record.sequence > current.sequence:
            self._pending[record.job_id] = record
            PROGRESS_PENDING_WRITES.set(len(self._pending))

    def get(self, job_id: str) -> ProgressRecord | None:
        return self._pending.get(job_id)

    def discard(self, job_ids: Iterable[str]) -> None:
        for job_id in job_ids:
            self._pending.pop(job_id, None)

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    async def make_durable(self, record: ProgressRecord) -> None:
        """Return once `record` (already added) is in Postgres; StoreUnavailable if it could not be written."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self._wakeup.set()
        await waiter

    async def flush(self) -> bool:
        """Write everything pending now; True when nothing is left pending."""
        async with self._flush_lock:
            batch, self._pending = self._pending, {}
            waiters, self._waiters = self._waiters, []
            try:
                if batch:
                    await self._durable.upsert_many(batch.values())
            except StoreUnavailable as error:
                # Put the batch back under anything newer that arrived meanwhile.
                for record in batch.values():
                    self.add(record)
                self._readiness.report(False)
                _settle(waiters, error)
                return False
            if batch:
                self._readiness.report(True)
                # Lag of the durability promise: acceptance of each value to its commit.
                now_ms = time.time() * 1000
                for record in batch.values():
                    PROGRESS_FLUSH_LAG.observe(max(0.0, now_ms - record.updated_at_ms) / 1000)
            PROGRESS_PENDING_WRITES.set(len(self._pending))
            _settle(waiters, None)
            return not self._pending

    async def run(self) -> None:
        delay = self._interval
        while True:
            # A terminal update wakes the flusher early (make_durable).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), delay)
            self._wakeup.clear()
            ok = await self.flush()
            delay = self._interval if ok or self._readiness.reachable else min(delay * 2, self._max_backoff)

    async def drain(self, within: float) -> None:
        """On shutdown: try to write what is pending before the process exits."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not await self.flush():
            if loop.time() >= deadline:
                log.error("shutdown with unflushed progress", extra={"pending_jobs": self.pending_count})
                return
            await asyncio.sleep(0.2)


def _settle(waiters: list[asyncio.Future[None]], error: StoreUnavailable | None) -> None:
    for waiter in waiters:
        if waiter.done():  # the caller gave up (cancelled RPC)
            continue
        if error is None:
            waiter.set_result(None)
        else:
            waiter.set_exception(error)
