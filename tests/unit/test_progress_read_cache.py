"""The in-process read cache: served while fresh, kept coherent by the fan-out, bounded."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from services.progress.domain import JobStatus, ProgressRecord, ProgressUpdate
from services.progress.ports import FanOutEvent, JobsCleared
from services.progress.read_cache import CachedHotStore, ReadCache
from tests.progress_support.fakes import InMemoryHotStore


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def record(job: str, sequence: int, status: JobStatus = JobStatus.RUNNING, created_at_ms: int = 1) -> ProgressRecord:
    return ProgressRecord(
        job_id=job,
        project_id="p",
        profile_id="f",
        percentage=float(sequence),
        current_step="",
        estimated_remaining_seconds=None,
        status=status,
        error="",
        fencing_token=1,
        sequence=sequence,
        created_at_ms=created_at_ms,
        updated_at_ms=created_at_ms + sequence,
    )


def update(job: str, percentage: float) -> ProgressUpdate:
    return ProgressUpdate(
        job_id=job,
        project_id="project-1",
        profile_id="f",
        percentage=percentage,
        current_step="",
        estimated_remaining_seconds=None,
        status=JobStatus.RUNNING,
        error="",
        fencing_token=1,
    )


def cache(clock: Clock, max_entries: int = 100) -> ReadCache:
    return ReadCache(max_entries=max_entries, ttl=1.0, terminal_ttl=60.0, clock=clock)


def test_a_running_jobs_entry_is_served_until_its_ttl_and_a_finished_one_longer() -> None:
    clock = Clock()
    reads = cache(clock)
    reads.remember(record("running", 3))
    reads.remember(record("done", 9, JobStatus.SUCCEEDED))

    clock.now = 0.9
    assert reads.get("running") is not None
    clock.now = 1.1
    assert reads.get("running") is None
    assert reads.get("done") is not None


def test_an_older_change_never_replaces_a_fresh_newer_one() -> None:
    clock = Clock()
    reads = cache(clock)
    reads.remember(record("job", 6))  # the fan-out delivered change 6 ...

    reads.remember(record("job", 5))  # ... before a read that started earlier came back with 5

    assert reads.get("job") == record("job", 6)


def test_after_expiry_a_read_may_lower_the_sequence_redis_recovered_from_postgres() -> None:
    clock = Clock()
    reads = cache(clock)
    reads.remember(record("job", 40))
    clock.now = 2.0

    reads.remember(record("job", 38))

    assert reads.get("job") == record("job", 38)


def test_a_recreated_job_replaces_the_old_one_whatever_its_sequence() -> None:
    reads = cache(Clock())
    reads.remember(record("job", 40, created_at_ms=1))

    reads.remember(record("job", 1, created_at_ms=2))

    assert reads.get("job") == record("job", 1, created_at_ms=2)


def test_memory_is_bounded_least_recently_used_first_out() -> None:
    reads = cache(Clock(), max_entries=3)
    for n in range(3):
        reads.remember(record(f"job-{n}", 1))
    reads.get("job-0")

    reads.remember(record("job-3", 1))

    assert len(reads) == 3
    assert reads.get("job-1") is None and reads.get("job-0") is not None


async def test_a_change_made_on_another_replica_reaches_this_replicas_cache_and_a_clear_evicts_it() -> None:
    shared = InMemoryHotStore()  # the Redis both replicas use
    replica_a = CachedHotStore(shared, cache(Clock()))
    replica_b = CachedHotStore(shared, cache(Clock()))
    seen: list[FanOutEvent] = []
    listening = asyncio.create_task(replica_b.listen(seen.append, lambda: None))
    await asyncio.sleep(0)

    await replica_a.apply(update("job", 30), 1000, allow_create=True)
    shared.wipe()  # from here on only B's memory can answer

    from_memory = await replica_b.get("job")
    await replica_a.forget(["job"], "project-1")
    after_clear = await replica_b.get("job")
    listening.cancel()

    assert from_memory is not None and from_memory.percentage == 30
    assert after_clear is None
    assert isinstance(seen[-1], JobsCleared)  # watchers still get every event


class ReconnectingHotStore(InMemoryHotStore):
    """Hands out its `on_resync` so the test can act out a fan-out reconnect."""

    on_resync: Callable[[], None] | None = None

    async def listen(self, on_event: Callable[[FanOutEvent], None], on_resync: Callable[[], None]) -> None:
        self.on_resync = on_resync


async def test_a_fan_out_reconnect_empties_the_cache() -> None:
    inner, reads = ReconnectingHotStore(), cache(Clock())
    await CachedHotStore(inner, reads).listen(lambda _: None, lambda: None)
    reads.remember(record("job", 2))
    assert inner.on_resync is not None

    inner.on_resync()

    assert len(reads) == 0
