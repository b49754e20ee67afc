"""RedisHotStore against the machine's Redis: the Lua script keeps the domain rules, atomically."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from editai_common.errors import ServiceError
from editai_common.redis_client import KeySpace
from services.progress.adapters.redis_hot_store import RedisHotStore
from services.progress.domain import JobStatus, Outcome, ProgressRecord, ProgressUpdate, apply_update
from services.progress.ports import FanOutEvent, JobsCleared


@pytest.fixture
async def store(redis_url: str, redis_prefix: str) -> AsyncIterator[RedisHotStore]:
    client = aioredis.Redis.from_pool(aioredis.BlockingConnectionPool.from_url(redis_url, max_connections=8))
    listener = aioredis.Redis.from_url(redis_url)
    yield RedisHotStore(client, listener, KeySpace(redis_prefix, "progress"), ttl_seconds=3600)
    await client.aclose()
    await listener.aclose()


def update(job: str, pct: float, status: JobStatus = JobStatus.RUNNING, token: int = 1, **kw: object) -> ProgressUpdate:
    values: dict[str, object] = {
        "job_id": job,
        "project_id": "project-1",
        "profile_id": "profile-1",
        "percentage": pct,
        "current_step": "",
        "estimated_remaining_seconds": None,
        "status": status,
        "error": "",
        "fencing_token": token,
    }
    values.update(kw)
    return ProgressUpdate(**values)  # type: ignore[arg-type]


async def test_lua_script_applies_the_same_rules_as_the_domain(store: RedisHotStore) -> None:
    """Random update streams give the same records and refusals in Redis as in domain.apply_update."""
    rng = random.Random(7)
    for job_number in range(40):
        job = f"job-{job_number}"
        expected: ProgressRecord | None = None
        for step in range(12):
            candidate = update(
                job,
                pct=rng.choice([0.0, 12.5, 30.0, 55.5, 80.0, 100.0]),
                status=rng.choice(list(JobStatus)) if step > 3 else JobStatus.RUNNING,
                token=rng.choice([1, 1, 1, 2, 3]),
                current_step=rng.choice(["a", "b"]),
                estimated_remaining_seconds=rng.choice([None, 3.5]),
            )
            now = 1000 + step
            try:
                want = apply_update(expected, candidate, now)
            except ServiceError as refusal:
                with pytest.raises(type(refusal)):
                    await store.apply(candidate, now, allow_create=True)
                continue
            got = await store.apply(candidate, now, allow_create=True)
            assert got is not None
            assert got.outcome is want.outcome
            expected = want.record
            assert got.record == expected


async def test_unknown_job_is_reported_missing_unless_creation_is_allowed(store: RedisHotStore) -> None:
    assert await store.apply(update("fresh", 5), 1, allow_create=False) is None
    created = await store.apply(update("fresh", 5), 1, allow_create=True)
    assert created is not None and created.outcome is Outcome.CREATED
    assert await store.latest_job_id("project-1") == "fresh"


async def test_concurrent_updates_from_many_clients_never_lower_percentage(store: RedisHotStore) -> None:
    await store.apply(update("race", 0), 1, allow_create=True)
    values = list(range(1, 101))
    random.Random(3).shuffle(values)
    await asyncio.gather(*(store.apply(update("race", v), 2, allow_create=False) for v in values))
    record = await store.get("race")
    assert record is not None and record.percentage == 100


async def test_seed_never_overwrites_a_newer_value(store: RedisHotStore) -> None:
    result = await store.apply(update("s", 40), 1, allow_create=True)
    assert result is not None
    older = apply_update(None, update("s", 10), 0).record
    await store.seed(older, as_latest=True)
    assert (await store.get("s")) == result.record


async def test_changes_and_clears_fan_out_to_listeners(store: RedisHotStore) -> None:
    events: list[FanOutEvent] = []
    listening = asyncio.create_task(store.listen(events.append, lambda: None))
    await asyncio.sleep(0.2)
    await store.apply(update("f", 10), 1, allow_create=True)
    await store.apply(update("f", 5), 2, allow_create=False)  # unchanged: not published
    await store.forget(["f"], "project-1")
    for _ in range(50):
        if len(events) >= 2:
            break
        await asyncio.sleep(0.02)
    listening.cancel()
    assert isinstance(events[0], ProgressRecord) and events[0].percentage == 10
    assert events[1] == JobsCleared(("f",))
    assert await store.get("f") is None and await store.latest_job_id("project-1") is None
