"""The durable store in Postgres (schema `progress`), through a psycopg 3 async pool.

Every driver failure, pool timeout or slow answer becomes `StoreUnavailable` in one
place (`_unavailable_on_failure`), so an outage never crashes a caller with a
driver exception.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from services.progress.domain import JobStatus, ProgressRecord
from services.progress.ports import StoreUnavailable

log = logging.getLogger("editai.progress.postgres")

_COLUMNS = (
    "job_id, project_id, profile_id, percentage, current_step, estimated_remaining_seconds, status, error,"
    " fencing_token, sequence,"
    " (extract(epoch FROM created_at) * 1000)::int8, (extract(epoch FROM updated_at) * 1000)::int8"
)

# One statement for a whole flush. The WHERE keeps a row from ever going back to an
# older value (a slow replica's flush, a retry of an old batch).
_UPSERT_MANY = """
INSERT INTO progress.jobs AS stored (job_id, project_id, profile_id, percentage, current_step,
    estimated_remaining_seconds, status, error, fencing_token, sequence, created_at, updated_at)
SELECT j, p, f, pct, step, eta, st, err, tok, seq, to_timestamp(c / 1000.0), to_timestamp(u / 1000.0)
FROM unnest(%s::text[], %s::text[], %s::text[], %s::float8[], %s::text[], %s::float8[], %s::int2[],
            %s::text[], %s::int8[], %s::int8[], %s::int8[], %s::int8[])
     AS batch(j, p, f, pct, step, eta, st, err, tok, seq, c, u)
ON CONFLICT (job_id) DO UPDATE SET
    project_id = excluded.project_id, profile_id = excluded.profile_id, percentage = excluded.percentage,
    current_step = excluded.current_step, estimated_remaining_seconds = excluded.estimated_remaining_seconds,
    status = excluded.status, error = excluded.error, fencing_token = excluded.fencing_token,
    sequence = excluded.sequence, updated_at = excluded.updated_at
WHERE excluded.sequence > stored.sequence
"""


def _record(row: tuple[Any, ...]) -> ProgressRecord:
    return ProgressRecord(
        job_id=row[0],
        project_id=row[1],
        profile_id=row[2],
        percentage=row[3],
        current_step=row[4],
        estimated_remaining_seconds=row[5],
        status=JobStatus(row[6]),
        error=row[7],
        fencing_token=row[8],
        sequence=row[9],
        created_at_ms=row[10],
        updated_at_ms=row[11],
    )


class PostgresProgressStore:
    def __init__(self, pool: AsyncConnectionPool, *, timeout: float) -> None:
        self._pool = pool
        self._timeout = timeout

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        try:
            # The whole call is bounded: a connection whose peer vanished must not hang the caller.
            async with asyncio.timeout(self._timeout * 3), self._pool.connection(timeout=self._timeout) as conn:
                yield conn
        except (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout, TimeoutError) as error:
            log.warning("postgres unreachable", extra={"error": str(error) or type(error).__name__})
            raise StoreUnavailable(
                "The progress database is unreachable; retry shortly.", reason="DATABASE_UNAVAILABLE"
            ) from None

    async def upsert_many(self, records: Iterable[ProgressRecord]) -> None:
        rows = list(records)
        if not rows:
            return
        columns: list[list[Any]] = [[] for _ in range(12)]
        for r in rows:
            for column, value in zip(
                columns,
                (
                    r.job_id,
                    r.project_id,
                    r.profile_id,
                    r.percentage,
                    r.current_step,
                    r.estimated_remaining_seconds,
                    int(r.status),
                    r.error,
                    r.fencing_token,
                    r.sequence,
                    r.created_at_ms,
                    r.updated_at_ms,
                ),
                strict=True,
            ):
                column.append(value)
        async with self._connection() as conn:
            await conn.execute(_UPSERT_MANY, columns)

    async def get(self, job_id: str) -> ProgressRecord | None:
        async with self._connection() as conn:
            cur = await conn.execute(f"SELECT {_COLUMNS} FROM progress.jobs WHERE job_id = %s", (job_id,))
            row = await cur.fetchone()
        return None if row is None else _record(row)

    async def get_many(self, job_ids: list[str]) -> dict[str, ProgressRecord]:
        async with self._connection() as conn:
            cur = await conn.execute(f"SELECT {_COLUMNS} FROM progress.jobs WHERE job_id = ANY(%s)", (job_ids,))
            rows = await cur.fetchall()
        return {row[0]: _record(row) for row in rows}

    async def latest_for_project(self, project_id: str) -> ProgressRecord | None:
        async with self._connection() as conn:
            cur = await conn.execute(
                f"SELECT {_COLUMNS} FROM progress.jobs WHERE project_id = %s AND project_id <> ''"
                " ORDER BY created_at DESC, job_id DESC LIMIT 1",
                (project_id,),
            )
            row = await cur.fetchone()
        return None if row is None else _record(row)

    async def jobs_of_project(self, project_id: str) -> list[ProgressRecord]:
        async with self._connection() as conn:
            cur = await conn.execute(
                f"SELECT {_COLUMNS} FROM progress.jobs WHERE project_id = %s AND project_id <> ''", (project_id,)
            )
            rows = await cur.fetchall()
        return [_record(row) for row in rows]

    async def delete(self, job_ids: Iterable[str]) -> int:
        async with self._connection() as conn:
            cur = await conn.execute("DELETE FROM progress.jobs WHERE job_id = ANY(%s)", (list(job_ids),))
            return cur.rowcount

    async def ping(self) -> None:
        async with self._connection() as conn:
            await conn.execute("SELECT 1")
