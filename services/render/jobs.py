"""What a render job is and the rules it keeps.

A job is a row in Postgres (the source of truth) delivered to one worker through a
Redis stream. Its life:

    queued ──claim──► running ──► succeeded | failed | cancelled
       ▲                 │
       └──── retry ──────┘  (lease expired and the type is idempotent)

Rules kept here and in the stores that implement them:
- at most one queued/running job per project (a partial unique index decides);
- each claim of a job (an *attempt*) gets a fresh, larger fencing token; every write
  of that attempt carries it and is refused once another attempt or a cancel replaced it;
- a running attempt holds a lease it renews; an expired lease means the worker is gone.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class JobType(enum.StrEnum):
    GENERATE_RAW_CLIPS = "generate_raw_clips"
    GENERATE_FROM_SEGMENTS = "generate_from_segments"
    RENDER_FINAL_CLIP = "render_final_clip"
    PROCESS_VIDEO = "process_video"
    SYNTHESIZE_SPEECH = "synthesize_speech"


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_active(self) -> bool:
        return self in (JobStatus.QUEUED, JobStatus.RUNNING)


ACTIVE_STATUSES = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)

# Types whose work can simply run again after a worker died mid-way: they write
# outputs under keys of their own attempt and replace their results as a whole.
# Speech synthesis is idempotent too (the TTS service caches by content hash).
IDEMPOTENT_TYPES = frozenset(
    {JobType.GENERATE_RAW_CLIPS, JobType.GENERATE_FROM_SEGMENTS, JobType.RENDER_FINAL_CLIP, JobType.SYNTHESIZE_SPEECH}
)

# Types that move their project through draft → generating → ready_for_triage / failed.
GENERATING_TYPES = frozenset({JobType.GENERATE_RAW_CLIPS, JobType.GENERATE_FROM_SEGMENTS})


class FailureReason(enum.StrEnum):
    """UPPER_SNAKE reasons a job ends with (Job.error_reason)."""

    WORKER_LOST = "WORKER_LOST"
    JOB_TIMEOUT = "JOB_TIMEOUT"
    CANCELLED = "CANCELLED"
    PIPELINE_FAILED = "PIPELINE_FAILED"
    UNKNOWN_JOB_TYPE = "UNKNOWN_JOB_TYPE"


@dataclass(frozen=True)
class Job:
    id: str
    profile_id: str
    type: JobType
    status: JobStatus
    project_id: str | None
    clip_id: str | None
    request_id: str | None
    params: Mapping[str, Any]
    attempt: int
    max_attempts: int
    fencing_token: int
    percentage: float
    current_step: str
    error_reason: str
    error: str
    outputs: Mapping[str, Any]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    lease_expires_at: datetime | None = None
    deadline_at: datetime | None = None

    @property
    def output_keys(self) -> list[str]:
        return [str(k) for k in self.outputs.get("keys", [])]


TRACE_REQUEST_PARAM = "_request_id"
"""Job param carrying the x-request-id of the call that started the job (for the worker's logs)."""


@dataclass(frozen=True)
class NewJob:
    """A job as a job-starting RPC asks for it, before it has an id."""

    profile_id: str
    type: JobType
    project_id: str | None = None
    clip_id: str | None = None
    request_id: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class JobOutcome:
    """What a pipeline returns: the outputs stored on the job (keys in variant order, extras)."""

    output_keys: tuple[str, ...] = ()
    duration_seconds: float = 0.0
    extra: Mapping[str, Any] = field(default_factory=dict)

    def as_outputs(self) -> dict[str, Any]:
        return {"keys": list(self.output_keys), "duration_seconds": self.duration_seconds, **self.extra}


class LeaseLost(Exception):
    """The attempt no longer holds its job: the lease expired, or the job was cancelled or replaced."""


class StaleFencingToken(LeaseLost):
    """A write carried a fencing token that is no longer the job's current running attempt."""

    def __init__(self, job_id: str, token: int) -> None:
        super().__init__(f"Job {job_id}: fencing token {token} is stale; the write was refused.")
        self.job_id = job_id
        self.token = token


class PipelineError(Exception):
    """A pipeline failed for a reason it can name; `reason` is UPPER_SNAKE, the message is for humans."""

    def __init__(self, message: str, *, reason: str = FailureReason.PIPELINE_FAILED) -> None:
        super().__init__(message)
        self.reason = reason


class ProjectBusy(Exception):
    """The project already has an active job (the store's answer; the RPC turns it into ProjectLocked)."""

    def __init__(self, project_id: str, running_job_id: str) -> None:
        super().__init__(project_id, running_job_id)
        self.project_id = project_id
        self.running_job_id = running_job_id


class ProjectMissing(Exception):
    """No such project for this profile."""


def attempt_output_prefixes(job_id: str, project_id: str | None, fencing_token: int) -> list[str]:
    """Media-store folders an attempt writes its outputs under (see pipelines/context.py).

    An attempt that does not succeed (failed, cancelled, lost) has them deleted, so its
    half-made outputs never pile up; a successful attempt's outputs are the job's result.
    """
    prefixes = [f"jobs/{job_id}/{fencing_token}"]
    if project_id:
        prefixes.append(f"projects/{project_id}/clips/{job_id}-{fencing_token}")
    return prefixes
