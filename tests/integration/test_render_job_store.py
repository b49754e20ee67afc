"""The Postgres job store against a real Postgres: claims, fencing, reaping, idempotency races."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import psycopg
import pytest

from editai_common.postgres import migrate, open_pool
from services.render.adapters.postgres_jobs import PostgresJobStore
from services.render.adapters.postgres_library import PostgresLibrary
from services.render.jobs import JobStatus, JobType, NewJob, ProjectBusy, StaleFencingToken
from services.render.server import MIGRATIONS

PROFILE = "alice"


@pytest.fixture
async def url(fresh_database_url: str) -> str:
    await migrate(fresh_database_url, "render", MIGRATIONS)
    return fresh_database_url


@pytest.fixture
async def store(url: str) -> AsyncIterator[PostgresJobStore]:
    pool = await open_pool(url, min_size=1, max_size=4)
    yield PostgresJobStore(pool, job_timeout_seconds=60, max_attempts=2)
    await pool.close()


async def _project(url: str) -> str:
    pool = await open_pool(url, min_size=1, max_size=1)
    try:
        project = await PostgresLibrary(pool).create_project(PROFILE, name="p", description="", target_duration=30)
    finally:
        await pool.close()
    return project.id


def _expire(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE render.jobs SET lease_expires_at = now() - interval '1 second' WHERE status = 'running'")


async def test_a_job_is_claimed_once_and_each_attempt_gets_a_larger_token(store: PostgresJobStore, url: str) -> None:
    """Guarantee 3 (fencing): every claim takes the next token from a sequence; a claimed job cannot be
    claimed again; after the lease expires the retry's token is larger and the old one is refused."""
    job = (await store.submit(NewJob(PROFILE, JobType.SYNTHESIZE_SPEECH, params={"text": "hi"}))).job
    first = await store.claim(job.id, "w1", lease_ttl=10)
    assert first is not None and await store.claim(job.id, "w2", lease_ttl=10) is None
    _expire(url)
    [reaped] = await store.reap_expired_leases()
    assert reaped.retried and reaped.lost_token == first.fencing_token
    second = await store.claim(job.id, "w2", lease_ttl=10)
    assert second is not None and second.fencing_token > first.fencing_token and second.attempt == 2
    with pytest.raises(StaleFencingToken):
        await store.save_progress(job.id, first.fencing_token, 50, "late")
    with pytest.raises(StaleFencingToken):
        await store.finish(job.id, first.fencing_token, JobStatus.SUCCEEDED)
    assert not await store.renew(job.id, first.fencing_token, lease_ttl=10)
    assert await store.renew(job.id, second.fencing_token, lease_ttl=10)
    done = await store.finish(job.id, second.fencing_token, JobStatus.SUCCEEDED, outputs={"keys": ["a"]})
    assert done.status is JobStatus.SUCCEEDED and done.output_keys == ["a"]


async def test_concurrent_reapers_take_each_expired_job_once(store: PostgresJobStore, url: str) -> None:
    """Guarantee 5 (no job vanishes), run by every replica at once: SKIP LOCKED hands each expired
    attempt to exactly one reaper; non-idempotent jobs end failed WORKER_LOST."""
    ids = []
    for _ in range(20):
        job = (await store.submit(NewJob(PROFILE, JobType.PROCESS_VIDEO, params={}))).job
        assert await store.claim(job.id, "dead", lease_ttl=10) is not None
        ids.append(job.id)
    _expire(url)
    pools = [await open_pool(url, min_size=1, max_size=2) for _ in range(3)]
    try:
        reapers = [PostgresJobStore(p, job_timeout_seconds=60, max_attempts=2) for p in pools]
        results = await asyncio.gather(*(r.reap_expired_leases(limit=7) for r in reapers for _ in range(2)))
    finally:
        for pool in pools:
            await pool.close()
    reaped = [item.job for batch in results for item in batch]
    assert sorted(j.id for j in reaped) == sorted(ids)
    assert {(j.status, j.error_reason) for j in reaped} == {(JobStatus.FAILED, "WORKER_LOST")}


async def test_simultaneous_requests_one_project_one_winner(store: PostgresJobStore, url: str) -> None:
    """Guarantee 1 at the store: 50 simultaneous submits for one project → one job, 49 ProjectBusy naming it."""
    project = await _project(url)
    results = await asyncio.gather(
        *(store.submit(NewJob(PROFILE, JobType.GENERATE_FROM_SEGMENTS, project_id=project)) for _ in range(50)),
        return_exceptions=True,
    )
    winners = [r.job for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, ProjectBusy)]
    assert len(winners) == 1 and len(losers) == 49
    assert {b.running_job_id for b in losers} <= {winners[0].id, ""}


async def test_simultaneous_repeats_of_a_request_id_make_one_job(store: PostgresJobStore, url: str) -> None:
    """Idempotency: 20 simultaneous submits with one request id → one job, every caller gets it."""
    project = await _project(url)
    request = NewJob(PROFILE, JobType.GENERATE_FROM_SEGMENTS, project_id=project, request_id=uuid.uuid4().hex)
    results = await asyncio.gather(*(store.submit(request) for _ in range(20)))
    assert len({r.job.id for r in results}) == 1
    assert sum(r.created for r in results) == 1


async def test_cancel_frees_the_project_and_refuses_the_attempts_writes(store: PostgresJobStore, url: str) -> None:
    """Guarantees 2 and 3: a cancel frees the project at once and the running attempt can write nothing more."""
    project = await _project(url)
    job = (await store.submit(NewJob(PROFILE, JobType.GENERATE_RAW_CLIPS, project_id=project))).job
    running = await store.claim(job.id, "w", lease_ttl=10)
    assert running is not None
    [cancelled] = await store.cancel_project(PROFILE, project, "stop")
    assert cancelled.status is JobStatus.CANCELLED
    assert await store.cancel_project(PROFILE, project, "again") == []
    with pytest.raises(StaleFencingToken):
        await store.finish(job.id, running.fencing_token, JobStatus.SUCCEEDED)
    assert (await store.submit(NewJob(PROFILE, JobType.GENERATE_RAW_CLIPS, project_id=project))).created
