"""Render workers: take delivered jobs, run one attempt each, keep its lease, obey cancel.

`python -m services.render.worker` runs workers only; `python -m services.render`
serves the API and runs them too (EDITAI_RENDER_WORKERS per process).

For one attempt the worker owns: the claim (a fresh fencing token), the lease loop
(renew every third of the TTL; a failed renew stops the attempt), the cancel signal
(pub/sub; the lease loop is the fallback), the deadline, the temporary directory
(removed on every exit path) and the terminal status (a fenced write).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import socket
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from editai_common.errors import ServiceError
from editai_common.ffmpeg import FfmpegFailed
from editai_common.logs import log_context
from editai_common.media_store import LocalMediaStore
from editai_common.metrics import RENDER_JOBS, RENDER_JOBS_ACTIVE
from services.render.attempt import Attempt, AttemptMediaStore
from services.render.jobs import (
    TRACE_REQUEST_PARAM,
    FailureReason,
    Job,
    JobOutcome,
    JobStatus,
    JobType,
    LeaseLost,
    PipelineError,
    attempt_output_prefixes,
)
from services.render.pipelines import Pipeline
from services.render.pipelines.context import SpeechPort
from services.render.ports import JobQueue, JobStore, LibraryStore, ProgressReporter

log = logging.getLogger("editai.render.worker")


class StopReason:
    CANCELLED = "cancelled"
    LEASE_LOST = "lease lost"
    SHUTDOWN = "worker shutting down"


@dataclass
class RunningAttempt:
    attempt: Attempt
    task: asyncio.Task[JobOutcome]
    stop_reason: str | None = None

    def stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
            self.attempt.lose(reason)
        self.task.cancel()


@dataclass(frozen=True)
class WorkerConfig:
    worker_id: str
    slots: int
    lease_ttl: float
    renew_interval: float
    work_dir: Path
    poll_seconds: float = 2.0


def new_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass
class Worker:
    config: WorkerConfig
    jobs: JobStore
    queue: JobQueue
    progress: ProgressReporter
    library: LibraryStore
    media: LocalMediaStore
    speech: SpeechPort
    pipelines: Mapping[JobType, Pipeline]
    # At most `slots` entries: an attempt is removed on every exit path.
    running: dict[str, RunningAttempt] = field(default_factory=dict)

    async def run(self) -> None:
        """Takes and runs jobs until cancelled; then stops running attempts and hands their jobs back."""
        slots = asyncio.Semaphore(self.config.slots)
        handlers: set[asyncio.Task[None]] = set()
        try:
            while True:
                await slots.acquire()
                try:
                    delivery = await self.queue.next_delivery(self.config.worker_id,
                                                              block_seconds=self.config.poll_seconds)  # fmt: skip
                except (OSError, ConnectionError, TimeoutError) as error:
                    slots.release()
                    log.warning("job queue unreachable", extra={"error": str(error)})
                    await asyncio.sleep(1.0)
                    continue
                except Exception:
                    slots.release()
                    log.exception("reading the job queue failed")
                    await asyncio.sleep(1.0)
                    continue
                if delivery is None:
                    slots.release()
                    continue
                task = asyncio.create_task(self._handle(delivery), name=f"job-{delivery.job_id}")
                handlers.add(task)
                task.add_done_callback(handlers.discard)
                task.add_done_callback(lambda _: slots.release())
        finally:
            for running in list(self.running.values()):
                running.stop(StopReason.SHUTDOWN)
            if handlers:
                await asyncio.wait(handlers, timeout=5.0)
            await self.queue.remove_consumer(self.config.worker_id)

    async def cancel_local(self, job_id: str) -> None:
        """A cancel announcement: stops the attempt if this process runs it."""
        running = self.running.get(job_id)
        if running is not None:
            log.info("stopping cancelled job", extra={"job_id": job_id})
            running.stop(StopReason.CANCELLED)

    async def _handle(self, delivery: object) -> None:
        job_id = getattr(delivery, "job_id", "")
        try:
            job = await self.jobs.claim(job_id, self.config.worker_id, lease_ttl=self.config.lease_ttl)
        except Exception:
            # Left pending in the stream: XAUTOCLAIM hands it to a worker again later.
            log.exception("claiming a job failed", extra={"job_id": job_id})
            return
        try:
            await self.queue.done(delivery)
        except Exception as error:
            # Harmless: a redelivered entry finds the job claimed and is dropped then.
            log.warning("acknowledging a delivery failed", extra={"job_id": job_id, "error": str(error)})
        if job is not None:
            with log_context(job_id=job.id, project_id=job.project_id, fencing_token=job.fencing_token,
                             request_id=job.params.get(TRACE_REQUEST_PARAM)):  # fmt: skip
                await self._run_attempt(job)

    async def _run_attempt(self, job: Job) -> None:
        workdir = self.config.work_dir / f"{job.id}-{job.fencing_token}"
        workdir.mkdir(parents=True, exist_ok=True)
        media = AttemptMediaStore(self.media.root, workdir)
        attempt = Attempt(job, media=media, workdir=workdir, library_store=self.library, speech=self.speech,
                          jobs=self.jobs, progress=self.progress)  # fmt: skip
        task = asyncio.create_task(self._pipeline(attempt), name=f"pipeline-{job.id}")
        running = RunningAttempt(attempt, task)
        self.running[job.id] = running
        keeper = asyncio.create_task(self._keep_lease(running), name=f"lease-{job.id}")
        log.info("job started", extra={"type": job.type.value, "attempt": job.attempt})
        RENDER_JOBS.labels(kind=job.type.value, state="started").inc()
        RENDER_JOBS_ACTIVE.labels(kind=job.type.value).inc()
        succeeded = False
        try:
            outcome = await task
        except asyncio.CancelledError:
            if running.stop_reason in (None, StopReason.SHUTDOWN):
                # Hand the job back: with its lease expired, any replica's reaper retries or fails it.
                with contextlib.suppress(Exception):
                    await self.jobs.release(job.id, job.fencing_token)
                if running.stop_reason is None:
                    raise
                return
            log.info("job stopped", extra={"reason": running.stop_reason})
            if running.stop_reason is StopReason.CANCELLED:
                RENDER_JOBS.labels(kind=job.type.value, state="cancelled").inc()
        except LeaseLost as lost:
            log.warning("job lost its lease; its results are discarded", extra={"error": str(lost)})
        except Exception as error:
            await self._fail(attempt, error)
        else:
            succeeded = await self._succeed(attempt, outcome)
        finally:
            RENDER_JOBS_ACTIVE.labels(kind=job.type.value).dec()
            keeper.cancel()
            try:
                await asyncio.to_thread(shutil.rmtree, workdir, True)
                if not succeeded:
                    await discard_attempt_outputs(self.media, job)
            finally:
                self.running.pop(job.id, None)

    async def _pipeline(self, attempt: Attempt) -> JobOutcome:
        pipeline = self.pipelines.get(attempt.job.type)
        if pipeline is None:
            raise PipelineError(f"No pipeline for {attempt.job.type}.", reason=FailureReason.UNKNOWN_JOB_TYPE)
        await attempt.report(0, "started")
        try:
            async with asyncio.timeout(attempt.time_remaining()):
                return await pipeline(attempt)
        except TimeoutError:
            message = "The job did not finish before its deadline."
            raise PipelineError(message, reason=FailureReason.JOB_TIMEOUT) from None

    async def _keep_lease(self, running: RunningAttempt) -> None:
        job = running.attempt.job
        last_renewed = time.monotonic()
        while True:
            await asyncio.sleep(self.config.renew_interval)
            try:
                owned = await self.jobs.renew(job.id, job.fencing_token, lease_ttl=self.config.lease_ttl)
            except Exception as error:
                log.warning("lease renewal failed", extra={"error": str(error)})
                # Without a renewal inside the TTL this attempt cannot prove it still owns the job.
                owned = time.monotonic() - last_renewed < self.config.lease_ttl
            else:
                last_renewed = time.monotonic() if owned else last_renewed
            if not owned:
                # Cancelled in Postgres (and the announcement missed us), reaped, or replaced.
                running.stop(StopReason.LEASE_LOST)
                return

    async def _succeed(self, attempt: Attempt, outcome: JobOutcome) -> bool:
        job = attempt.job
        try:
            await self.jobs.finish(job.id, job.fencing_token, JobStatus.SUCCEEDED, outputs=outcome.as_outputs())
        except LeaseLost:
            log.warning("job finished after losing its lease; result discarded")
            return False
        log.info("job succeeded")
        RENDER_JOBS.labels(kind=job.type.value, state="completed").inc()
        await self._report_terminal(job, JobStatus.SUCCEEDED, 100.0, "done")
        return True

    async def _fail(self, attempt: Attempt, error: Exception) -> None:
        job = attempt.job
        reason, message = failure_of(error)
        if reason == "INTERNAL":
            log.error("job failed unexpectedly", exc_info=error)
        else:
            log.info("job failed", extra={"reason": reason, "error": message})
        try:
            await self.jobs.finish(job.id, job.fencing_token, JobStatus.FAILED, reason=reason, error=message)
        except LeaseLost:
            return
        RENDER_JOBS.labels(kind=job.type.value, state="failed").inc()
        await self._report_terminal(job, JobStatus.FAILED, attempt.percentage, "failed", error=message)

    async def _report_terminal(
        self, job: Job, status: JobStatus, percentage: float, step: str, error: str = ""
    ) -> None:
        with contextlib.suppress(LeaseLost):
            await self.progress.report(job_id=job.id, project_id=job.project_id, profile_id=job.profile_id,
                                       status=status, percentage=percentage, step=step,
                                       fencing_token=job.fencing_token, eta_seconds=0.0, error=error)  # fmt: skip


async def discard_attempt_outputs(media: LocalMediaStore, job: Job) -> None:
    """Deletes what an attempt that did not succeed wrote under its own output folders."""
    for prefix in attempt_output_prefixes(job.id, job.project_id, job.fencing_token):
        try:
            await media.delete_prefix(prefix)
        except Exception as error:
            log.warning("could not delete an attempt's outputs", extra={"prefix": prefix, "error": str(error)})


def failure_of(error: Exception) -> tuple[str, str]:
    """(reason, readable message) of a failed attempt; internals stay in the log."""
    if isinstance(error, PipelineError):
        return error.reason, str(error)
    if isinstance(error, ServiceError):
        return error.reason, error.message
    if isinstance(error, FfmpegFailed):
        return "FFMPEG_FAILED", f"ffmpeg failed (exit code {error.returncode})."
    return "INTERNAL", "The job failed unexpectedly; the service logged the details."


def main() -> None:
    """`python -m services.render.worker [--port N]`: run render workers without the API."""
    from editai_common.service_main import run_service
    from services.render.config import Settings
    from services.render.server import serve_worker

    run_service(
        "render", Settings.from_env, serve_worker, prog="python -m services.render.worker", log_name="render-worker"
    )


if __name__ == "__main__":
    main()
