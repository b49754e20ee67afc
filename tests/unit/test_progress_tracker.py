"""ProgressTracker with in-memory stores: durability, fallbacks and watching, without I/O."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from services.progress.domain import JobStatus, ProgressNotFound, ProgressUpdate, Target
from services.progress.ports import StoreUnavailable
from services.progress.readiness import DatabaseReadiness
from services.progress.tracker import ProgressTracker
from services.progress.watchers import WatchHub
from services.progress.write_behind import WriteBehind
from tests.progress_support.fakes import InMemoryDurableStore, InMemoryHotStore


@dataclass
class World:
    tracker: ProgressTracker
    hot: InMemoryHotStore
    durable: InMemoryDurableStore
    write_behind: WriteBehind
    readiness: DatabaseReadiness
    health: list[bool]


@pytest.fixture
async def world() -> AsyncIterator[World]:
    hot, durable, health = InMemoryHotStore(), InMemoryDurableStore(), []

    async def on_change(reachable: bool) -> None:
        health.append(reachable)

    readiness = DatabaseReadiness(durable.ping, on_change, probe_interval=0.01)
    # Periodic flushes are the tests' to trigger; terminal updates still wake the flusher.
    write_behind = WriteBehind(durable, readiness, interval=60, max_backoff=60)
    clock = iter(range(1000, 10**9))
    tracker = ProgressTracker(hot, durable, write_behind, readiness, WatchHub(), clock_ms=lambda: next(clock))
    tasks = [asyncio.create_task(tracker.listen()), asyncio.create_task(write_behind.run())]
    await asyncio.sleep(0)
    yield World(tracker, hot, durable, write_behind, readiness, health)
    for task in tasks:
        task.cancel()


def update(job: str, percentage: float, status: JobStatus = JobStatus.RUNNING, **fields: object) -> ProgressUpdate:
    values: dict[str, object] = {
        "job_id": job,
        "project_id": "project-1",
        "profile_id": "profile-1",
        "percentage": percentage,
        "current_step": "",
        "estimated_remaining_seconds": None,
        "status": status,
        "error": "",
        "fencing_token": 1,
    }
    values.update(fields)
    return ProgressUpdate(**values)  # type: ignore[arg-type]


async def test_non_terminal_updates_are_written_behind_in_one_statement_per_flush(world: World) -> None:
    for job in ("a", "b", "c"):
        for pct in (10, 20, 30):
            await world.tracker.update(update(job, pct))
    assert world.durable.rows == {}  # acknowledged before Postgres saw it
    assert await world.write_behind.flush()
    assert world.durable.statements == 1
    assert {job: r.percentage for job, r in world.durable.rows.items()} == {"a": 30, "b": 30, "c": 30}


async def test_terminal_state_is_durable_before_update_returns(world: World) -> None:
    """DESIGN §5.4: terminal states are durable before they are acknowledged."""
    await world.tracker.update(update("a", 50))
    await world.tracker.update(update("a", 100, JobStatus.SUCCEEDED))
    assert world.durable.rows["a"].status is JobStatus.SUCCEEDED
    assert world.write_behind.pending_count == 0


async def test_a_burst_of_finishing_jobs_shares_few_commits(world: World) -> None:
    for n in range(100):
        await world.tracker.update(update(f"job-{n}", 50))
    before = world.durable.statements
    await asyncio.gather(*(world.tracker.update(update(f"job-{n}", 100, JobStatus.SUCCEEDED)) for n in range(100)))
    assert len(world.durable.rows) == 100
    assert world.durable.statements - before <= 3


async def test_terminal_state_during_outage_is_not_acknowledged_and_a_retry_succeeds_later(world: World) -> None:
    await world.tracker.update(update("a", 50))
    world.durable.down = True
    with pytest.raises(StoreUnavailable) as refused:
        await world.tracker.update(update("a", 100, JobStatus.SUCCEEDED))
    assert refused.value.reason == "PROGRESS_NOT_DURABLE"
    world.durable.down = False
    record = await world.tracker.update(update("a", 100, JobStatus.SUCCEEDED))  # the client's retry
    assert record.status is JobStatus.SUCCEEDED
    assert world.durable.rows["a"].status is JobStatus.SUCCEEDED


async def test_outage_keeps_pending_writes_and_they_land_when_the_database_returns(world: World) -> None:
    world.durable.down = True
    await world.tracker.update(update("a", 40))
    assert not await world.write_behind.flush()
    assert world.readiness.reachable is False
    assert (await world.tracker.get(Target(job_id="a"), None)).percentage == 40  # reads keep working
    await world.tracker.update(update("a", 45))
    world.durable.down = False
    assert await world.write_behind.flush()
    assert world.durable.rows["a"].percentage == 45


async def test_readiness_probe_reports_outage_and_recovery(world: World) -> None:
    probe = asyncio.create_task(world.readiness.run())
    world.durable.down = True
    await asyncio.sleep(0.05)
    world.durable.down = False
    await asyncio.sleep(0.05)
    probe.cancel()
    assert world.health == [False, True]


async def test_lost_hot_value_falls_back_to_the_database_and_is_put_back(world: World) -> None:
    await world.tracker.update(update("a", 30))
    await world.write_behind.flush()
    world.hot.wipe()
    assert (await world.tracker.get(Target(job_id="a"), None)).percentage == 30
    assert "a" in world.hot.jobs
    world.hot.wipe()
    assert (await world.tracker.get(Target(project_id="project-1"), None)).job_id == "a"


async def test_monotonicity_holds_across_a_lost_hot_value(world: World) -> None:
    await world.tracker.update(update("a", 30))
    await world.write_behind.flush()
    world.hot.wipe()
    record = await world.tracker.update(update("a", 10))
    assert (record.percentage, record.sequence) == (30, 1)


async def test_profile_scoping_hides_other_profiles_jobs(world: World) -> None:
    await world.tracker.update(update("a", 30))
    assert (await world.tracker.get(Target(job_id="a"), "profile-1")).percentage == 30
    with pytest.raises(ProgressNotFound):
        await world.tracker.get(Target(job_id="a"), "someone-else")
    with pytest.raises(ProgressNotFound):
        await world.tracker.clear(Target(job_id="a"), "someone-else")


async def test_project_read_follows_the_newest_job(world: World) -> None:
    await world.tracker.update(update("old", 100, JobStatus.SUCCEEDED))
    await world.tracker.update(update("new", 5))
    assert (await world.tracker.get(Target(project_id="project-1"), None)).job_id == "new"


async def test_clear_forgets_everywhere_and_drops_pending_writes(world: World) -> None:
    await world.tracker.update(update("a", 30))
    await world.tracker.update(update("b", 30))
    assert await world.tracker.clear(Target(project_id="project-1"), None) == 2
    await world.write_behind.flush()
    assert world.durable.rows == {} and world.hot.jobs == {}
    with pytest.raises(ProgressNotFound):
        await world.tracker.get(Target(job_id="a"), None)


async def test_watch_sends_current_then_changes_and_ends_after_terminal(world: World) -> None:
    await world.tracker.update(update("a", 10))
    seen: list[float] = []

    async def watch() -> None:
        async for record in world.tracker.watch(Target(job_id="a"), None, after_sequence=0):
            seen.append(record.percentage)

    watcher = asyncio.create_task(watch())
    await asyncio.sleep(0.01)
    await world.tracker.update(update("a", 50))
    await asyncio.sleep(0.01)
    await world.tracker.update(update("a", 100, JobStatus.SUCCEEDED))
    await asyncio.wait_for(watcher, 1)
    assert seen == [10, 50, 100]


async def test_watch_resumes_after_sequence_and_project_watch_switches_to_a_newer_job(world: World) -> None:
    await world.tracker.update(update("a", 10))
    await world.tracker.update(update("a", 20))
    seen: list[tuple[str, float]] = []

    async def watch() -> None:
        async for record in world.tracker.watch(Target(project_id="project-1"), None, after_sequence=2):
            seen.append((record.job_id, record.percentage))

    watcher = asyncio.create_task(watch())
    await asyncio.sleep(0.01)
    await world.tracker.update(update("a", 30))
    await asyncio.sleep(0.01)
    await world.tracker.update(update("b", 1))
    await asyncio.sleep(0.01)
    await world.tracker.update(update("a", 40))  # the old job no longer matters
    await world.tracker.update(update("b", 100, JobStatus.SUCCEEDED))
    await asyncio.wait_for(watcher, 1)
    assert seen == [("a", 30), ("b", 1), ("b", 100)]
