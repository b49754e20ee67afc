"""Accepting, cancelling and deleting jobs: what the job RPCs do, whichever replica answers.

Accepting is one INSERT in Postgres (the project lock and idempotency live in its
unique indexes) followed by an XADD that delivers the job to one worker. A busy project
answers ProjectLocked at once. Cancel is one UPDATE (the project is free the moment it
commits) followed by an announcement that makes the owning worker kill its ffmpeg.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from editai_common.errors import NotFound, ProjectLocked
from editai_common.media_store import LocalMediaStore
from editai_common.metrics import RENDER_JOBS
from editai_common.request_context import current_request_id
from services.render.jobs import TRACE_REQUEST_PARAM, Job, JobStatus, LeaseLost, NewJob, ProjectBusy, ProjectMissing
from services.render.ports import CancelBus, JobQueue, JobStore, ProgressReporter

log = logging.getLogger("editai.render.scheduler")

Prepare = Callable[[], Awaitable[Mapping[str, Any]]]
"""Work done only once the project is known free (e.g. probing the upload); returns extra params."""


def job_not_found(job_id: str) -> NotFound:
    return NotFound(f"Job {job_id} does not exist.", reason="JOB_NOT_FOUND")


def project_not_found(project_id: str) -> NotFound:
    return NotFound(f"Project {project_id} does not exist.", reason="PROJECT_NOT_FOUND")


@dataclass
class JobScheduler:
    jobs: JobStore
    queue: JobQueue
    cancel_bus: CancelBus
    progress: ProgressReporter
    media: LocalMediaStore

    async def start(self, new: NewJob, prepare: Prepare | None = None) -> Job:
        """Creates and delivers a job; a repeated request id returns the first job."""
        caller_request = current_request_id()
        if caller_request:
            # The worker that runs the job logs under the request that started it.
            new = replace(new, params={**new.params, TRACE_REQUEST_PARAM: caller_request})
        try:
            submitted = await self.jobs.submit(new, prepare)
        except ProjectBusy as busy:
            RENDER_JOBS.labels(kind=new.type.value, state="rejected_locked").inc()
            raise ProjectLocked(busy.project_id, busy.running_job_id) from None
        except ProjectMissing:
            raise project_not_found(new.project_id or "") from None
        job = submitted.job
        if submitted.created:
            RENDER_JOBS.labels(kind=job.type.value, state="accepted").inc()
            await self._report(job, JobStatus.QUEUED, "queued")
            try:
                await self.queue.enqueue(job.id)
            except Exception as error:
                # The job is safe in Postgres; the reaper delivers undelivered jobs again.
                extra = {"job_id": job.id, "error": str(error)}
                log.warning("enqueue failed; the reaper will deliver the job", extra=extra)
        return job

    async def get(self, profile: str, job_id: str) -> Job:
        job = await self.jobs.get(profile, job_id)
        if job is None:
            raise job_not_found(job_id)
        return job

    async def cancel_job(self, profile: str, job_id: str) -> Job:
        """Cancels an active job; a finished job is returned unchanged (a no-op)."""
        cancelled = await self.jobs.cancel_job(profile, job_id, "Cancelled by the user.")
        if cancelled is None:
            return await self.get(profile, job_id)
        await self._after_cancel(cancelled)
        return cancelled

    async def cancel_project(self, profile: str, project_id: str) -> list[Job]:
        """Cancels the project's active job(s); nothing running means nothing changes."""
        cancelled = await self.jobs.cancel_project(profile, project_id, "Cancelled by the user.")
        for job in cancelled:
            await self._after_cancel(job)
        return cancelled

    async def delete_job(self, profile: str, job_id: str) -> None:
        job = await self.get(profile, job_id)
        if job.status.is_active:
            await self.cancel_job(profile, job_id)
        await self.jobs.delete(profile, job_id)
        await self.media.delete_prefix(f"jobs/{job.id}")

    async def _after_cancel(self, job: Job) -> None:
        log.info("job cancelled", extra={"job_id": job.id, "project_id": job.project_id})
        await self.cancel_bus.announce(job.id)
        await self._report(job, JobStatus.CANCELLED, "cancelled", error=job.error)

    async def _report(self, job: Job, status: JobStatus, step: str, error: str = "") -> None:
        # LeaseLost: a newer attempt already reported; its view wins.
        with contextlib.suppress(LeaseLost):
            await self.progress.report(job_id=job.id, project_id=job.project_id, profile_id=job.profile_id,
                                       status=status, percentage=job.percentage, step=step,
                                       fencing_token=job.fencing_token, error=error)  # fmt: skip
