"""In-memory stand-ins for the progress stores, for the tracker's unit tests.

The hot store applies `domain.apply_update`, the rules the Redis Lua script
implements; the durable store can be switched "down" to act out an outage.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence

from editai_common.errors import ServiceError
from services.progress.domain import ProgressRecord, ProgressUpdate, UpdateResult, apply_update
from services.progress.ports import FanOutEvent, JobsCleared, StoreUnavailable


class InMemoryHotStore:
    def __init__(self) -> None:
        self.jobs: dict[str, ProgressRecord] = {}
        self.latest: dict[str, str] = {}
        self._listeners: list[Callable[[FanOutEvent], None]] = []

    async def apply(self, update: ProgressUpdate, now_ms: int, *, allow_create: bool) -> UpdateResult | None:
        current = self.jobs.get(update.job_id)
        if current is None and not allow_create:
            return None
        result = apply_update(current, update, now_ms)
        if result.changed:
            self.jobs[update.job_id] = result.record
            if current is None and update.project_id:
                self.latest[update.project_id] = update.job_id
            self._publish(result.record)
        return result

    async def apply_many(
        self, updates: Sequence[ProgressUpdate], now_ms: int, *, allow_create: bool
    ) -> list[UpdateResult | ServiceError | None]:
        results: list[UpdateResult | ServiceError | None] = []
        for update in updates:
            try:
                results.append(await self.apply(update, now_ms, allow_create=allow_create))
            except ServiceError as refused:
                results.append(refused)
        return results

    async def seed(self, record: ProgressRecord, *, as_latest: bool) -> None:
        self.jobs.setdefault(record.job_id, record)
        if as_latest and record.project_id:
            self.latest.setdefault(record.project_id, record.job_id)

    async def get(self, job_id: str) -> ProgressRecord | None:
        return self.jobs.get(job_id)

    async def latest_job_id(self, project_id: str) -> str | None:
        return self.latest.get(project_id)

    async def forget(self, job_ids: Iterable[str], project_id: str) -> None:
        ids = tuple(job_ids)
        for job_id in ids:
            self.jobs.pop(job_id, None)
            if self.latest.get(project_id) == job_id:
                del self.latest[project_id]
        self._publish(JobsCleared(ids))

    def wipe(self) -> None:
        """Redis restarted without persistence."""
        self.jobs.clear()
        self.latest.clear()

    def _publish(self, event: FanOutEvent) -> None:
        for listener in self._listeners:
            listener(event)

    async def listen(self, on_event: Callable[[FanOutEvent], None], on_resync: Callable[[], None]) -> None:
        self._listeners.append(on_event)
        try:
            await asyncio.Event().wait()
        finally:
            self._listeners.remove(on_event)


class InMemoryDurableStore:
    def __init__(self) -> None:
        self.rows: dict[str, ProgressRecord] = {}
        self.down = False
        self.statements = 0  # one per upsert_many, as the Postgres adapter sends

    def _check(self) -> None:
        if self.down:
            raise StoreUnavailable("database down (test)")

    async def upsert_many(self, records: Iterable[ProgressRecord]) -> None:
        self._check()
        self.statements += 1
        for record in records:
            stored = self.rows.get(record.job_id)
            if stored is None or record.sequence > stored.sequence:
                self.rows[record.job_id] = record

    async def get(self, job_id: str) -> ProgressRecord | None:
        self._check()
        return self.rows.get(job_id)

    async def get_many(self, job_ids: list[str]) -> dict[str, ProgressRecord]:
        self._check()
        return {j: self.rows[j] for j in job_ids if j in self.rows}

    async def latest_for_project(self, project_id: str) -> ProgressRecord | None:
        self._check()
        rows = [r for r in self.rows.values() if r.project_id == project_id]
        return max(rows, key=lambda r: (r.created_at_ms, r.job_id), default=None)

    async def jobs_of_project(self, project_id: str) -> list[ProgressRecord]:
        self._check()
        return [r for r in self.rows.values() if r.project_id == project_id]

    async def delete(self, job_ids: Iterable[str]) -> int:
        self._check()
        return sum(self.rows.pop(j, None) is not None for j in job_ids)

    async def ping(self) -> None:
        self._check()
