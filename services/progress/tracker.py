"""ProgressTracker: the progress service's behaviour, independent of gRPC and drivers.

Durability promise (DESIGN.md §5.4):
- Terminal states (succeeded, failed, cancelled) are written to Postgres before
  `update` returns. If Postgres cannot be reached, `update` raises Unavailable and
  acknowledges nothing; the hot store already holds the terminal value, so the
  client's retry is an idempotent repeat, and the write-behind keeps retrying it.
- Non-terminal updates are acknowledged once the hot store (Redis, shared by every
  replica) holds them, and reach Postgres within one flush interval (write-behind).

Reads never wait on Postgres while the value is in the hot store. When the hot
store lost it (Redis restarted without persistence, key expired) the tracker falls
back to this replica's pending writes, then to Postgres, and puts the value back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence

from editai_common.errors import ServiceError
from services.progress.batched_lookup import BatchedLookup
from services.progress.domain import (
    ProgressNotFound,
    ProgressRecord,
    ProgressUpdate,
    Target,
    UpdateResult,
)
from services.progress.ports import DurableStore, FanOutEvent, HotStore, JobsCleared, StoreUnavailable
from services.progress.readiness import DatabaseReadiness
from services.progress.watchers import WatchEnded, WatchHub
from services.progress.write_behind import WriteBehind

log = logging.getLogger("editai.progress.tracker")


def _not_durable(record: ProgressRecord) -> StoreUnavailable:
    return StoreUnavailable(
        f"Job {record.job_id} finished, but the database is unreachable, so the final state is not "
        "durable yet; retry the same update.",
        reason="PROGRESS_NOT_DURABLE",
        metadata={"job_id": record.job_id},
        retry_after_seconds=1.0,
    )


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class ProgressTracker:
    def __init__(
        self,
        hot: HotStore,
        durable: DurableStore,
        write_behind: WriteBehind,
        readiness: DatabaseReadiness,
        hub: WatchHub,
        clock_ms: Callable[[], int] = wall_clock_ms,
    ) -> None:
        self._hot = hot
        self._durable = durable
        self._write_behind = write_behind
        self._readiness = readiness
        self._hub = hub
        self._clock_ms = clock_ms
        self._durable_lookup: BatchedLookup[ProgressRecord] = BatchedLookup(durable.get_many)

    # ---- updates ----------------------------------------------------------------

    async def update(self, update: ProgressUpdate) -> ProgressRecord:
        """Record an update (rules: domain.apply_update). See the module docstring for durability."""
        result = await self._apply(update)
        record = result.record
        if result.changed or record.is_terminal:
            # An identical terminal repeat is added too: its first write may have failed.
            self._write_behind.add(record)
        if record.is_terminal:
            await self._persist_now(record)
        return record

    async def update_many(self, updates: Sequence[ProgressUpdate]) -> list[ProgressRecord | ServiceError]:
        """`update` for each item, in order, with one hot-store round trip for known jobs and
        one more for new ones, and ONE durable flush shared by every terminal item.

        Each item keeps the rules and durability promise of `update`; a refused item
        (stale token, finished job) or an unwritten terminal item fails only itself.
        """
        now = self._clock_ms()
        results: list[UpdateResult | ServiceError | None] = list(
            await self._hot.apply_many(updates, now, allow_create=False)
        )
        misses = [i for i, result in enumerate(results) if result is None]
        if misses:
            # New jobs (or hot values lost): put known values back first, as `_apply` does.
            first_of_job = {updates[i].job_id: i for i in reversed(misses)}
            known = await asyncio.gather(*(self._recover(job_id, for_update=True) for job_id in first_of_job))
            for record in known:
                if record is not None:
                    await self._hot.seed(record, as_latest=False)
            retried = await self._hot.apply_many([updates[i] for i in misses], now, allow_create=True)
            for i, result in zip(misses, retried, strict=True):
                results[i] = result
        answers: list[ProgressRecord | ServiceError] = []
        terminal: list[tuple[int, ProgressRecord]] = []
        for i, result in enumerate(results):
            assert result is not None  # creating was allowed
            if isinstance(result, ServiceError):
                answers.append(result)
                continue
            if result.changed or result.record.is_terminal:
                self._write_behind.add(result.record)
            if result.record.is_terminal:
                terminal.append((i, result.record))
            answers.append(result.record)
        if terminal:
            try:
                # One flush takes every terminal item added above (group commit).
                await self._write_behind.make_durable(terminal[0][1])
            except StoreUnavailable:
                for i, finished in terminal:
                    answers[i] = _not_durable(finished)
        return answers

    async def _apply(self, update: ProgressUpdate) -> UpdateResult:
        now = self._clock_ms()
        result = await self._hot.apply(update, now, allow_create=False)
        if result is not None:
            return result
        # Unknown to the hot store: a new job, or one whose hot value was lost. Put the
        # known value back first so monotonicity and fencing hold across a Redis loss.
        known = await self._recover(update.job_id, for_update=True)
        if known is not None:
            await self._hot.seed(known, as_latest=False)
        result = await self._hot.apply(update, now, allow_create=True)
        assert result is not None  # creating is allowed
        return result

    async def _persist_now(self, record: ProgressRecord) -> None:
        try:
            await self._write_behind.make_durable(record)
        except StoreUnavailable as error:
            raise _not_durable(record) from error

    async def _recover(self, job_id: str, *, for_update: bool = False) -> ProgressRecord | None:
        pending = self._write_behind.get(job_id)
        if pending is not None:
            return pending
        try:
            return await self._durable_lookup.get(job_id)
        except StoreUnavailable:
            self._readiness.report(False)
            if for_update:
                # Accepting a new job during an outage beats refusing all work; the rare
                # cost is that a job whose hot value was also lost restarts its history.
                log.warning("database unreachable; treating job as new", extra={"job_id": job_id})
                return None
            raise

    # ---- reads ------------------------------------------------------------------

    async def get(self, target: Target, caller_profile: str | None) -> ProgressRecord:
        record = await self._find(target)
        if record is None or not record.visible_to(caller_profile):
            kind, identifier = ("project", target.project_id) if target.by_project else ("job", target.job_id)
            raise ProgressNotFound(kind, identifier)
        return record

    async def _find(self, target: Target) -> ProgressRecord | None:
        if not target.by_project:
            return await self._find_job(target.job_id)
        job_id = await self._hot.latest_job_id(target.project_id)
        if job_id is not None:
            record = await self._find_job(job_id)
            if record is not None:
                return record
        try:
            record = await self._durable.latest_for_project(target.project_id)
        except StoreUnavailable:
            self._readiness.report(False)
            raise
        if record is not None:
            await self._hot.seed(self._write_behind.get(record.job_id) or record, as_latest=True)
        return record

    async def _find_job(self, job_id: str) -> ProgressRecord | None:
        record = await self._hot.get(job_id)
        if record is not None:
            return record
        record = await self._recover(job_id)
        if record is not None:
            await self._hot.seed(record, as_latest=False)
        return record

    # ---- clearing ---------------------------------------------------------------

    async def clear(self, target: Target, caller_profile: str | None) -> int:
        """Forget a job (or every job of a project); needs the database."""
        if target.by_project:
            # Jobs still only in this replica's write-behind must be found too.
            await self._write_behind.flush()
            try:
                records = await self._durable.jobs_of_project(target.project_id)
            except StoreUnavailable:
                self._readiness.report(False)
                raise
            latest = await self._hot.latest_job_id(target.project_id)
            known = {r.job_id for r in records}
            if latest is not None and latest not in known:
                hot_latest = await self._hot.get(latest)
                if hot_latest is not None:
                    records.append(hot_latest)
            job_ids = [r.job_id for r in records if r.visible_to(caller_profile)]
            project_id = target.project_id
        else:
            record = await self.get(target, caller_profile)
            job_ids, project_id = [record.job_id], record.project_id
        if not job_ids:
            return 0
        self._write_behind.discard(job_ids)
        try:
            await self._durable.delete(job_ids)
        except StoreUnavailable:
            self._readiness.report(False)
            raise
        await self._hot.forget(job_ids, project_id)
        return len(job_ids)

    # ---- watching ---------------------------------------------------------------

    async def watch(
        self, target: Target, caller_profile: str | None, after_sequence: int
    ) -> AsyncIterator[ProgressRecord]:
        """The current value, then every change, until the (followed) job ends.

        Registers with the hub before reading the current value, so no change made in
        between is missed. A project watch follows the project's newest job.
        """
        with self._hub.watch(target) as watcher:
            current = await self.get(target, caller_profile)
            watcher.offer(current)
            sent_job, sent_sequence = current.job_id, after_sequence
            while True:
                try:
                    record = await watcher.next()
                except WatchEnded:
                    return
                if record is None:  # fan-out reconnected: changes may have been missed
                    watcher.offer(await self.get(target, caller_profile))
                    continue
                if not record.visible_to(caller_profile):
                    continue
                if record.job_id != sent_job:
                    sent_job, sent_sequence = record.job_id, 0
                if record.sequence > sent_sequence:
                    sent_sequence = record.sequence
                    yield record
                if record.is_terminal:
                    return

    def on_fan_out(self, event: FanOutEvent) -> None:
        """Every replica's accepted changes arrive here (hot store's listener)."""
        if isinstance(event, JobsCleared):
            self._write_behind.discard(event.job_ids)
            self._hub.cleared(event.job_ids)
        else:
            self._hub.publish(event)

    def on_resync(self) -> None:
        self._hub.resync()

    async def listen(self) -> None:
        await self._hot.listen(self.on_fan_out, self.on_resync)
