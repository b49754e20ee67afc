"""The reaper: no job vanishes (guarantee 5) and no project stays locked by the dead (guarantee 2).

Every render process runs one; the scans use `FOR UPDATE SKIP LOCKED`, so replicas
share the work without coordination. Each pass:
- attempts whose lease expired (their worker died, froze, or was cut off): retried
  when the job is idempotent and has attempts and time left, else failed WORKER_LOST;
  the dead attempt's temporary directory is removed;
- active jobs past their deadline: failed JOB_TIMEOUT, and their worker told to stop;
- queued jobs nobody claimed for a while (an enqueue lost in a crash): delivered again;
- stream consumers of dead processes that hold nothing: forgotten.
The first pass runs at start-up, which recovers what a restart left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from editai_common.media_store import LocalMediaStore
from editai_common.metrics import RENDER_JOBS, RENDER_QUEUE_DEPTH
from services.render.jobs import JobStatus, LeaseLost, attempt_output_prefixes
from services.render.ports import CancelBus, JobQueue, JobStore, ProgressReporter, Reaped

log = logging.getLogger("editai.render.reaper")


@dataclass
class Reaper:
    jobs: JobStore
    queue: JobQueue
    cancel_bus: CancelBus
    progress: ProgressReporter
    media: LocalMediaStore
    work_dir: Path
    interval_seconds: float
    requeue_after_seconds: float
    consumer_idle_seconds: float

    async def run(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("reaper pass failed; trying again")
            await asyncio.sleep(self.interval_seconds)

    async def run_once(self) -> list[Reaped]:
        reaped = [*await self.jobs.reap_expired_leases(), *await self.jobs.reap_overdue()]
        for item in reaped:
            await self._settle(item)
        RENDER_QUEUE_DEPTH.set(await self.jobs.queued_count())
        for job_id in await self.jobs.undelivered(older_than=self.requeue_after_seconds):
            await self.queue.enqueue(job_id)
        await self.queue.forget_idle_consumers(idle_seconds=self.consumer_idle_seconds)
        return reaped

    async def _settle(self, item: Reaped) -> None:
        job = item.job
        log.warning("reaped job", extra={"job_id": job.id, "status": job.status.value, "reason": job.error_reason,
                                         "lost_token": item.lost_token, "lost_worker": item.lost_worker})  # fmt: skip
        if item.retried:
            await self.queue.enqueue(job.id)
        else:
            # A live but overdue worker stops now rather than at its next lease renewal.
            await self.cancel_bus.announce(job.id)
        # The lost attempt's scratch files and half-made outputs (on the shared data dir, even those
        # of another machine).
        await asyncio.to_thread(shutil.rmtree, self.work_dir / f"{job.id}-{item.lost_token}", True)
        for prefix in attempt_output_prefixes(job.id, job.project_id, item.lost_token):
            await self.media.delete_prefix(prefix)
        RENDER_JOBS.labels(kind=job.type.value, state="retried" if item.retried else "failed").inc()
        step = "retrying: the worker was lost" if item.retried else "failed"
        status = JobStatus.QUEUED if item.retried else JobStatus.FAILED
        with contextlib.suppress(LeaseLost):
            await self.progress.report(job_id=job.id, project_id=job.project_id, profile_id=job.profile_id,
                                       status=status, percentage=job.percentage, step=step,
                                       fencing_token=item.lost_token, error=job.error)  # fmt: skip
