"""PostgresProgressStore against the machine's Postgres: guarded batch upserts and lookups."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from psycopg_pool import AsyncConnectionPool

from editai_common.postgres import migrate, open_pool
from services.progress.adapters.postgres_store import PostgresProgressStore
from services.progress.domain import JobStatus, ProgressRecord
from services.progress.ports import StoreUnavailable

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "progress" / "migrations"


@pytest.fixture
async def pool(fresh_database_url: str) -> AsyncIterator[AsyncConnectionPool]:
    await migrate(fresh_database_url, "progress", MIGRATIONS)
    opened = await open_pool(fresh_database_url, max_size=2)
    yield opened
    await opened.close()


def record(job: str, sequence: int, pct: float, project: str = "p", created: int = 1_700_000_000_000) -> ProgressRecord:
    return ProgressRecord(
        job_id=job,
        project_id=project,
        profile_id="profile-1",
        percentage=pct,
        current_step="step",
        estimated_remaining_seconds=None if sequence % 2 else 4.5,
        status=JobStatus.RUNNING,
        error="",
        fencing_token=1,
        sequence=sequence,
        created_at_ms=created,
        updated_at_ms=created + sequence,
    )


async def test_batch_upsert_round_trips_and_never_goes_backwards(pool: AsyncConnectionPool) -> None:
    store = PostgresProgressStore(pool, timeout=2)
    await store.upsert_many([record(f"j{i}", 5, 50.0) for i in range(200)])
    await store.upsert_many([record("j1", 3, 30.0), record("j2", 6, 60.0)])  # j1's is an old value
    assert await store.get("j0") == record("j0", 5, 50.0)
    assert (await store.get("j1")) == record("j1", 5, 50.0)
    assert (await store.get("j2")) == record("j2", 6, 60.0)


async def test_latest_job_of_a_project_and_delete(pool: AsyncConnectionPool) -> None:
    store = PostgresProgressStore(pool, timeout=2)
    older, newer = record("old", 1, 100.0, created=1000), record("new", 1, 5.0, created=2000)
    await store.upsert_many([newer, older])
    assert await store.latest_for_project("p") == newer
    assert {r.job_id for r in await store.jobs_of_project("p")} == {"old", "new"}
    assert await store.delete(["old", "new", "missing"]) == 2
    assert await store.latest_for_project("p") is None


async def test_unreachable_database_is_store_unavailable_not_a_driver_error() -> None:
    pool = await open_pool("postgresql://postgres@127.0.0.1:1/nothing", max_size=1)
    try:
        store = PostgresProgressStore(pool, timeout=0.3)
        with pytest.raises(StoreUnavailable):
            await store.upsert_many([replace(record("j", 1, 1.0))])
        with pytest.raises(StoreUnavailable):
            await store.ping()
    finally:
        await pool.close()
