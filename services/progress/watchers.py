"""In-process registry of WatchProgress streams, fed by the hot store's fan-out.

A watcher keeps only the newest value it has not sent yet (progress is "latest
wins"), so a slow client costs one record of memory, never a growing queue.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

from services.progress.domain import ProgressRecord, Target


class Watcher:
    """One stream's mailbox: the newest unsent record, a resync request, or the end."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._newest: ProgressRecord | None = None  # newest ever offered (ordering reference)
        self._unsent: ProgressRecord | None = None
        self._resync = False
        self._closed = False
        self._wakeup = asyncio.Event()

    def offer(self, record: ProgressRecord) -> None:
        if not self._is_newer(record):
            return
        self._newest = record
        self._unsent = record
        self._wakeup.set()

    def _is_newer(self, record: ProgressRecord) -> bool:
        newest = self._newest
        if newest is None:
            return True
        if record.job_id == newest.job_id:
            return record.sequence > newest.sequence
        # Only project watchers see other jobs: follow a job created after the current one.
        return self.target.by_project and record.created_at_ms >= newest.created_at_ms

    def request_resync(self) -> None:
        self._resync = True
        self._wakeup.set()

    def close(self) -> None:
        self._closed = True
        self._wakeup.set()

    async def next(self) -> ProgressRecord | None:
        """The next record to send; None means "re-read the current value" (after a reconnect).

        Raises `WatchEnded` when the watched job was cleared.
        """
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            if self._closed:
                raise WatchEnded
            if self._resync:
                self._resync = False
                return None
            if self._unsent is not None:
                record, self._unsent = self._unsent, None
                return record


class WatchEnded(Exception):
    """The watched job was cleared while a stream followed it."""


class WatchHub:
    def __init__(self) -> None:
        self._by_job: defaultdict[str, set[Watcher]] = defaultdict(set)
        self._by_project: defaultdict[str, set[Watcher]] = defaultdict(set)

    @contextmanager
    def watch(self, target: Target) -> Iterator[Watcher]:
        watcher = Watcher(target)
        index, key = (self._by_project, target.project_id) if target.by_project else (self._by_job, target.job_id)
        index[key].add(watcher)
        try:
            yield watcher
        finally:
            index[key].discard(watcher)
            if not index[key]:
                del index[key]  # nothing per job outlives its last watcher

    def publish(self, record: ProgressRecord) -> None:
        for watcher in self._by_job.get(record.job_id, ()):
            watcher.offer(record)
        if record.project_id:
            for watcher in self._by_project.get(record.project_id, ()):
                watcher.offer(record)

    def cleared(self, job_ids: tuple[str, ...]) -> None:
        for job_id in job_ids:
            for watcher in self._by_job.get(job_id, ()):
                watcher.close()

    def resync(self) -> None:
        for index in (self._by_job, self._by_project):
            for watchers in index.values():
                for watcher in watchers:
                    watcher.request_resync()

    @property
    def count(self) -> int:
        return sum(len(w) for w in self._by_job.values()) + sum(len(w) for w in self._by_project.values())
