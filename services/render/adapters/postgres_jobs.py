"""Render jobs in Postgres: the one place that decides who may run what.

- `submit`: one INSERT decides the project lock (partial unique index) and idempotency
  (unique request id), so of N simultaneous requests exactly one wins and the rest learn
  the winner at once (guarantee 1).
- `claim`: queued → running with a fresh fencing token from a sequence and a lease.
- `renew`, `save_progress`, `finish`: fenced by (id, fencing_token, status='running');
  a stale attempt changes nothing (guarantee 3).
- `reap_*`: expired leases and overdue jobs, `FOR UPDATE SKIP LOCKED` so every replica
  can run the reaper at once (guarantees 2 and 5).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from services.render.adapters.postgres_rows import job_from
from services.render.jobs import (
    GENERATING_TYPES,
    IDEMPOTENT_TYPES,
    FailureReason,
    Job,
    JobStatus,
    NewJob,
    ProjectBusy,
    ProjectMissing,
    StaleFencingToken,
)

# ---------------------------------------------------------------- SQL, in one place

ENSURE_PROFILE = "INSERT INTO render.profiles (id) VALUES (%s) ON CONFLICT DO NOTHING"

# One round trip answers the fast paths of a job request: is the project the caller's,
# is the request a repeat, is the project busy. (The INSERT still decides the race.)
PRECHECK = """
    SELECT p.id AS project_id,
        (SELECT j.id FROM render.jobs j WHERE j.project_id = p.id AND j.status IN ('queued', 'running')) AS active_id,
        (SELECT j.id FROM render.jobs j WHERE j.profile_id = %(profile)s AND j.request_id = %(request_id)s) AS repeat_id
    FROM render.projects p WHERE p.id = %(project)s AND p.profile_id = %(profile)s
"""
SELECT_BY_REQUEST = "SELECT * FROM render.jobs WHERE profile_id = %(profile)s AND request_id = %(request_id)s"
SELECT_ACTIVE_ID = "SELECT id FROM render.jobs WHERE project_id = %(project)s AND status IN ('queued', 'running')"
INSERT_JOB = """
    INSERT INTO render.jobs (id, profile_id, type, project_id, clip_id, request_id, params, max_attempts, deadline_at)
    VALUES (%(id)s, %(profile)s, %(type)s, %(project)s, %(clip)s, %(request_id)s, %(params)s, %(max_attempts)s,
            now() + make_interval(secs => %(timeout)s))
    ON CONFLICT (profile_id, request_id) WHERE request_id IS NOT NULL DO NOTHING
    RETURNING *
"""
MARK_PROJECT_GENERATING = "UPDATE render.projects SET status = 'generating', updated_at = now() WHERE id = %(project)s"

SELECT_JOB = "SELECT * FROM render.jobs WHERE id = %(id)s AND profile_id = %(profile)s"
SELECT_JOB_ANY_PROFILE = "SELECT * FROM render.jobs WHERE id = %(id)s"
LIST_JOBS = """
    SELECT * FROM render.jobs WHERE profile_id = %(profile)s
      AND (%(project)s::uuid IS NULL OR project_id = %(project)s)
      AND (%(status)s::text IS NULL OR status = %(status)s)
    ORDER BY created_at DESC, id LIMIT %(limit)s OFFSET %(offset)s
"""
DELETE_JOB = """
    DELETE FROM render.jobs WHERE id = %(id)s AND profile_id = %(profile)s AND status NOT IN ('queued', 'running')
"""

CLAIM = """
    UPDATE render.jobs SET status = 'running', attempt = attempt + 1,
        fencing_token = nextval('render.fencing_tokens'), worker_id = %(worker)s,
        lease_expires_at = now() + make_interval(secs => %(ttl)s),
        deadline_at = least(deadline_at, now() + make_interval(secs => %(timeout)s)),
        started_at = coalesce(started_at, now()), current_step = 'starting'
    WHERE id = %(id)s AND status = 'queued' AND deadline_at > now()
    RETURNING *
"""
RENEW = """
    UPDATE render.jobs SET lease_expires_at = now() + make_interval(secs => %(ttl)s)
    WHERE id = %(id)s AND fencing_token = %(token)s AND status = 'running' AND lease_expires_at > now()
    RETURNING id
"""
SAVE_PROGRESS = """
    UPDATE render.jobs SET percentage = greatest(percentage, %(pct)s), current_step = %(step)s
    WHERE id = %(id)s AND fencing_token = %(token)s AND status = 'running' AND lease_expires_at > now()
    RETURNING id
"""
FINISH = """
    UPDATE render.jobs SET status = %(status)s, outputs = %(outputs)s, error_reason = %(reason)s, error = %(error)s,
        percentage = CASE WHEN %(status)s = 'succeeded' THEN 100 ELSE percentage END,
        current_step = %(step)s, finished_at = now(), lease_expires_at = NULL
    WHERE id = %(id)s AND fencing_token = %(token)s AND status = 'running' AND lease_expires_at > now()
    RETURNING *
"""
# Expire the lease now (graceful worker stop): the reaper retries or fails the job at once.
RELEASE = """
    UPDATE render.jobs SET lease_expires_at = now() - interval '1 second'
    WHERE id = %(id)s AND fencing_token = %(token)s AND status = 'running'
"""
CANCEL_JOB = """
    UPDATE render.jobs SET status = 'cancelled', error_reason = 'CANCELLED', error = %(message)s,
        current_step = 'cancelled', finished_at = now(), lease_expires_at = NULL
    WHERE id = %(id)s AND profile_id = %(profile)s AND status IN ('queued', 'running')
    RETURNING *
"""
CANCEL_PROJECT = """
    UPDATE render.jobs SET status = 'cancelled', error_reason = 'CANCELLED', error = %(message)s,
        current_step = 'cancelled', finished_at = now(), lease_expires_at = NULL
    WHERE project_id = %(project)s AND profile_id = %(profile)s AND status IN ('queued', 'running')
    RETURNING *
"""
EXPIRED_LEASES = """
    SELECT * FROM render.jobs WHERE status = 'running' AND lease_expires_at < now()
    ORDER BY lease_expires_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED
"""
OVERDUE = """
    SELECT * FROM render.jobs WHERE status IN ('queued', 'running') AND deadline_at < now()
    ORDER BY deadline_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED
"""
REQUEUE = """
    UPDATE render.jobs SET status = 'queued', worker_id = NULL, lease_expires_at = NULL, enqueued_at = now(),
        current_step = %(step)s
    WHERE id = %(id)s RETURNING *
"""
FAIL = """
    UPDATE render.jobs SET status = 'failed', error_reason = %(reason)s, error = %(error)s, current_step = 'failed',
        finished_at = now(), lease_expires_at = NULL
    WHERE id = %(id)s RETURNING *
"""
UNDELIVERED = """
    UPDATE render.jobs SET enqueued_at = now()
    WHERE id IN (SELECT id FROM render.jobs
                 WHERE status = 'queued' AND enqueued_at < now() - make_interval(secs => %(age)s)
                 ORDER BY enqueued_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED)
    RETURNING id
"""
# What a job's end means for its project and clip.
PROJECT_AFTER_SUCCESS = (
    "UPDATE render.projects SET status = 'ready_for_triage', updated_at = now() WHERE id = %(project)s"
)
PROJECT_AFTER_FAILURE = "UPDATE render.projects SET status = 'failed', updated_at = now() WHERE id = %(project)s"
PROJECT_AFTER_CANCEL = """
    UPDATE render.projects SET updated_at = now(), status = CASE
        WHEN EXISTS (SELECT 1 FROM render.clips c WHERE c.project_id = %(project)s) THEN 'ready_for_triage'
        ELSE 'draft' END
    WHERE id = %(project)s
"""
CLIP_AFTER_FAILURE = """
    UPDATE render.clips SET final_status = 'failed', error = %(error)s, updated_at = now()
    WHERE id = %(clip)s AND final_status IN ('pending', 'processing')
"""
Prepare = Callable[[], Awaitable[Mapping[str, Any]]]

ACTIVE_COUNT = "SELECT count(*) FROM render.jobs WHERE status IN ('queued', 'running')"
QUEUED_COUNT = "SELECT count(*) FROM render.jobs WHERE status = 'queued'"


@dataclass(frozen=True)
class Submitted:
    job: Job
    created: bool


@dataclass(frozen=True)
class Reaped:
    """A job the reaper took from a lost or overdue attempt: `job` as it is now, `lost_token` the old attempt's."""

    job: Job
    lost_token: int
    lost_worker: str | None

    @property
    def retried(self) -> bool:
        return self.job.status is JobStatus.QUEUED


def _uuid(value: str | None) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


async def _terminal_side_effects(conn: AsyncConnection[Any], job: Job) -> None:
    """A job ended: move its project (generating jobs) and its clip (failed renders) along."""
    if job.project_id and job.type in GENERATING_TYPES:
        sql = {JobStatus.SUCCEEDED: PROJECT_AFTER_SUCCESS, JobStatus.FAILED: PROJECT_AFTER_FAILURE}.get(
            job.status, PROJECT_AFTER_CANCEL
        )
        await conn.execute(sql, {"project": uuid.UUID(job.project_id)})
    if job.clip_id and job.status in (JobStatus.FAILED, JobStatus.CANCELLED):
        await conn.execute(CLIP_AFTER_FAILURE, {"clip": uuid.UUID(job.clip_id), "error": job.error or job.error_reason})


class PostgresJobStore:
    def __init__(self, pool: AsyncConnectionPool, *, job_timeout_seconds: float, max_attempts: int) -> None:
        self._pool = pool
        self._timeout = job_timeout_seconds
        self._max_attempts = max_attempts

    # ------------------------------------------------------------ accepting jobs

    async def submit(self, new: NewJob, prepare: Prepare | None = None) -> Submitted:
        """Creates the job, or returns the first job of a repeated request id.

        `prepare` runs only when the project looked free (so a busy project answers at
        once); its result joins the job's params. Raises ProjectBusy or ProjectMissing.
        """
        project = _uuid(new.project_id) if new.project_id else None
        if new.project_id and project is None:
            raise ProjectMissing(new.project_id)
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            if project is not None:
                await cur.execute(PRECHECK, {"project": project, "profile": new.profile_id,
                                             "request_id": new.request_id})  # fmt: skip
                pre = await cur.fetchone()
                if pre is None:
                    raise ProjectMissing(new.project_id)
                if pre["repeat_id"] is not None:
                    return Submitted(await self._by_request(cur, new), created=False)
                if pre["active_id"] is not None:
                    raise ProjectBusy(str(project), str(pre["active_id"]))
            elif new.request_id:
                await cur.execute(SELECT_BY_REQUEST, {"profile": new.profile_id, "request_id": new.request_id})
                if (row := await cur.fetchone()) is not None:
                    return Submitted(job_from(row), created=False)
        params = {**new.params, **(await prepare() if prepare is not None else {})}
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            try:
                async with conn.transaction():
                    await cur.execute(ENSURE_PROFILE, (new.profile_id,))
                    await cur.execute(INSERT_JOB, {
                        "id": uuid.uuid4(), "profile": new.profile_id, "type": new.type.value, "project": project,
                        "clip": _uuid(new.clip_id), "request_id": new.request_id, "params": Jsonb(params),
                        "max_attempts": self._max_attempts if new.type in IDEMPOTENT_TYPES else 1,
                        "timeout": self._timeout,
                    })  # fmt: skip
                    row = await cur.fetchone()
                    if row is not None and project is not None and new.type in GENERATING_TYPES:
                        await cur.execute(MARK_PROJECT_GENERATING, {"project": project})
            except psycopg.errors.UniqueViolation as error:
                if error.diag.constraint_name != "jobs_one_active_per_project":
                    raise
                await cur.execute(SELECT_ACTIVE_ID, {"project": project})
                active = await cur.fetchone()
                # The winner may already have finished; it still held the project when we tried.
                raise ProjectBusy(str(project), str(active["id"]) if active else "") from None
            if row is None:  # the same request id won a race with us
                return Submitted(await self._by_request(cur, new), created=False)
            return Submitted(job_from(row), created=True)

    async def _by_request(self, cur: psycopg.AsyncCursor[Any], new: NewJob) -> Job:
        await cur.execute(SELECT_BY_REQUEST, {"profile": new.profile_id, "request_id": new.request_id})
        row = await cur.fetchone()
        assert row is not None
        return job_from(row)

    # ------------------------------------------------------------ reading

    async def get(self, profile: str, job_id: str) -> Job | None:
        if (jid := _uuid(job_id)) is None:
            return None
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(SELECT_JOB, {"id": jid, "profile": profile})
            row = await cur.fetchone()
        return job_from(row) if row else None

    async def get_any(self, job_id: str) -> Job | None:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(SELECT_JOB_ANY_PROFILE, {"id": uuid.UUID(job_id)})
            row = await cur.fetchone()
        return job_from(row) if row else None

    async def list_jobs(
        self, profile: str, *, project_id: str | None, status: JobStatus | None, limit: int, offset: int
    ) -> list[Job]:
        project = _uuid(project_id) if project_id else None
        if project_id and project is None:
            return []
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(LIST_JOBS, {"profile": profile, "project": project,
                                          "status": status.value if status else None, "limit": limit,
                                          "offset": offset})  # fmt: skip
            return [job_from(r) for r in await cur.fetchall()]

    async def delete(self, profile: str, job_id: str) -> bool:
        if (jid := _uuid(job_id)) is None:
            return False
        async with self._pool.connection() as conn:
            cur = await conn.execute(DELETE_JOB, {"id": jid, "profile": profile})
            return cur.rowcount > 0

    async def active_count(self) -> int:
        async with self._pool.connection() as conn:
            cur = await conn.execute(ACTIVE_COUNT)
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def queued_count(self) -> int:
        """Jobs waiting for a worker (the queue depth operators watch)."""
        async with self._pool.connection() as conn:
            cur = await conn.execute(QUEUED_COUNT)
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    # ------------------------------------------------------------ one attempt

    async def claim(self, job_id: str, worker_id: str, *, lease_ttl: float) -> Job | None:
        """Starts an attempt: None when the job is no longer queued (done, cancelled, claimed)."""
        if (jid := _uuid(job_id)) is None:
            return None
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(CLAIM, {"id": jid, "worker": worker_id, "ttl": lease_ttl, "timeout": self._timeout})
            row = await cur.fetchone()
        return job_from(row) if row else None

    async def renew(self, job_id: str, token: int, *, lease_ttl: float) -> bool:
        """Extends the attempt's lease; False when it no longer owns the job."""
        async with self._pool.connection() as conn:
            cur = await conn.execute(RENEW, {"id": uuid.UUID(job_id), "token": token, "ttl": lease_ttl})
            return await cur.fetchone() is not None

    async def save_progress(self, job_id: str, token: int, percentage: float, step: str) -> None:
        async with self._pool.connection() as conn:
            params = {"id": uuid.UUID(job_id), "token": token, "pct": percentage, "step": step}
            cur = await conn.execute(SAVE_PROGRESS, params)
            if await cur.fetchone() is None:
                raise StaleFencingToken(job_id, token)

    async def finish(
        self,
        job_id: str,
        token: int,
        status: JobStatus,
        *,
        outputs: dict[str, Any] | None = None,
        reason: str = "",
        error: str = "",
    ) -> Job:
        """Ends the attempt's job (fenced); raises StaleFencingToken when it no longer owns it."""
        async with self._pool.connection() as conn, conn.transaction():
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(FINISH, {"id": uuid.UUID(job_id), "token": token, "status": status.value,
                                       "outputs": Jsonb(outputs or {}), "reason": reason, "error": error,
                                       "step": status.value})  # fmt: skip
            row = await cur.fetchone()
            if row is None:
                raise StaleFencingToken(job_id, token)
            job = job_from(row)
            await _terminal_side_effects(conn, job)
        return job

    async def release(self, job_id: str, token: int) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(RELEASE, {"id": uuid.UUID(job_id), "token": token})

    # ------------------------------------------------------------ cancel

    async def cancel_job(self, profile: str, job_id: str, message: str) -> Job | None:
        """Cancels an active job; None when it is not active (or not the caller's)."""
        if (jid := _uuid(job_id)) is None:
            return None
        return next(iter(await self._cancel(CANCEL_JOB, {"id": jid, "profile": profile, "message": message})), None)

    async def cancel_project(self, profile: str, project_id: str, message: str) -> list[Job]:
        if (pid := _uuid(project_id)) is None:
            return []
        return await self._cancel(CANCEL_PROJECT, {"project": pid, "profile": profile, "message": message})

    async def _cancel(self, sql: str, params: dict[str, Any]) -> list[Job]:
        async with self._pool.connection() as conn, conn.transaction():
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(sql, params)
            jobs = [job_from(r) for r in await cur.fetchall()]
            for job in jobs:
                await _terminal_side_effects(conn, job)
        return jobs

    # ------------------------------------------------------------ the reaper's scans

    async def reap_expired_leases(self, *, limit: int = 50) -> list[Reaped]:
        """Attempts whose lease expired: retry (idempotent, attempts left, time left) or fail WORKER_LOST."""
        reaped: list[Reaped] = []
        async with self._pool.connection() as conn, conn.transaction():
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(EXPIRED_LEASES, {"limit": limit})
            for row in await cur.fetchall():
                lost = job_from(row)
                if lost.type in IDEMPOTENT_TYPES and lost.attempt < lost.max_attempts:
                    await cur.execute(REQUEUE, {"id": row["id"], "step": "retrying: the worker was lost"})
                else:
                    message = f"The worker running attempt {lost.attempt} stopped responding."
                    await cur.execute(FAIL, {"id": row["id"], "reason": FailureReason.WORKER_LOST, "error": message})
                after = await cur.fetchone()
                assert after is not None
                job = job_from(after)
                if job.status is JobStatus.FAILED:
                    await _terminal_side_effects(conn, job)
                reaped.append(Reaped(job, lost.fencing_token, row["worker_id"]))
        return reaped

    async def reap_overdue(self, *, limit: int = 50) -> list[Reaped]:
        """Active jobs past their deadline: failed JOB_TIMEOUT (their worker is told to stop)."""
        reaped: list[Reaped] = []
        async with self._pool.connection() as conn, conn.transaction():
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(OVERDUE, {"limit": limit})
            for row in await cur.fetchall():
                message = "The job did not finish before its deadline."
                await cur.execute(FAIL, {"id": row["id"], "reason": FailureReason.JOB_TIMEOUT, "error": message})
                after = await cur.fetchone()
                assert after is not None
                job = job_from(after)
                await _terminal_side_effects(conn, job)
                reaped.append(Reaped(job, row["fencing_token"], row["worker_id"]))
        return reaped

    async def undelivered(self, *, older_than: float, limit: int = 100) -> list[str]:
        """Queued jobs nobody claimed for a while (an enqueue lost with a crash): deliver again."""
        async with self._pool.connection() as conn:
            cur = await conn.execute(UNDELIVERED, {"age": older_than, "limit": limit})
            return [str(r[0]) for r in await cur.fetchall()]
