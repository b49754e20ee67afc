"""What job progress is and the rules an update must keep.

The rules (the Redis Lua script in adapters/redis_hot_store.py enforces the same
ones atomically; `apply_update` is their readable, unit-tested statement):

- A job's fencing token only grows. An update with a lower token than the stored
  one is refused (`StaleFencingToken`, ABORTED). A higher token is a new attempt of
  the job: its values replace the stored ones, percentage may start again.
- Within one attempt percentage never goes backwards. A non-terminal update with a
  lower percentage is an out-of-order straggler: it is ignored and the caller gets
  the stored value back (OK), so it sees what is stored. A terminal update keeps the
  higher percentage but still ends the job.
- A terminal status (succeeded, failed, cancelled) is final: any later update is
  refused (`JobFinished`, FAILED_PRECONDITION), whatever its token, except an
  identical repeat of the terminal update, which is idempotent (a client retrying
  after a lost reply). A retry of a finished job is a new job id.
- Every accepted change increases `sequence` by one (SSE event ids, watcher resume).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, replace

from editai_common.errors import (
    Aborted,
    FailedPrecondition,
    FieldViolation,
    NotFound,
    Resource,
    invalid_fields,
)

MAX_ID_LENGTH = 128
MAX_STEP_LENGTH = 512
MAX_ERROR_LENGTH = 4096


class JobStatus(enum.IntEnum):
    """Same numbers as editai.progress.v1.JobStatus (0 = unspecified is never stored)."""

    QUEUED = 1
    RUNNING = 2
    SUCCEEDED = 3
    FAILED = 4
    CANCELLED = 5

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})


@dataclass(frozen=True)
class ProgressUpdate:
    """What a worker reports about its job."""

    job_id: str
    project_id: str
    profile_id: str
    percentage: float
    current_step: str
    estimated_remaining_seconds: float | None
    status: JobStatus
    error: str
    fencing_token: int


@dataclass(frozen=True)
class ProgressRecord:
    """The stored progress of a job. Times are milliseconds since the epoch."""

    job_id: str
    project_id: str
    profile_id: str
    percentage: float
    current_step: str
    estimated_remaining_seconds: float | None
    status: JobStatus
    error: str
    fencing_token: int
    sequence: int
    created_at_ms: int
    updated_at_ms: int

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal

    def visible_to(self, profile_id: str | None) -> bool:
        """A caller naming a profile sees only that profile's jobs; internal callers see all."""
        return profile_id is None or self.profile_id == profile_id


class Outcome(enum.Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"  # a straggler or an identical terminal repeat: nothing written


@dataclass(frozen=True)
class UpdateResult:
    record: ProgressRecord
    outcome: Outcome

    @property
    def changed(self) -> bool:
        return self.outcome is not Outcome.UNCHANGED


class StaleFencingToken(Aborted):
    """The update comes from an attempt that has been replaced by a newer one."""

    default_reason = "STALE_FENCING_TOKEN"

    def __init__(self, job_id: str, given: int, current: int) -> None:
        super().__init__(
            f"Job {job_id} is owned by fencing token {current}; an update with token {given} is stale.",
            metadata={"job_id": job_id, "fencing_token": str(given), "current_fencing_token": str(current)},
            resources=(Resource("editai.progress.v1.Progress", job_id, description="job progress"),),
        )


class JobFinished(FailedPrecondition):
    """The job already reached a terminal status; its progress no longer changes."""

    default_reason = "JOB_FINISHED"

    def __init__(self, job_id: str, status: JobStatus) -> None:
        super().__init__(
            f"Job {job_id} already finished ({status.name.lower()}); its progress can no longer change.",
            metadata={"job_id": job_id, "status": status.name},
            resources=(Resource("editai.progress.v1.Progress", job_id, description="finished job"),),
        )


class ProgressNotFound(NotFound):
    """No progress is known for the job or project (or it belongs to another profile)."""

    default_reason = "PROGRESS_NOT_FOUND"

    def __init__(self, kind: str, identifier: str) -> None:
        super().__init__(
            f"No progress is known for {kind} {identifier}.",
            metadata={f"{kind}_id": identifier},
            resources=(Resource(f"editai.progress.v1.{kind.title()}", identifier),),
        )


def apply_update(current: ProgressRecord | None, update: ProgressUpdate, now_ms: int) -> UpdateResult:
    """The update rules of the module docstring, as a pure function."""
    if current is None:
        record = ProgressRecord(
            job_id=update.job_id,
            project_id=update.project_id,
            profile_id=update.profile_id,
            percentage=update.percentage,
            current_step=update.current_step,
            estimated_remaining_seconds=update.estimated_remaining_seconds,
            status=update.status,
            error=update.error,
            fencing_token=update.fencing_token,
            sequence=1,
            created_at_ms=now_ms,
            updated_at_ms=now_ms,
        )
        return UpdateResult(record, Outcome.CREATED)
    if update.fencing_token < current.fencing_token:
        raise StaleFencingToken(update.job_id, update.fencing_token, current.fencing_token)
    if current.is_terminal:
        if is_identical_repeat(current, update):
            return UpdateResult(current, Outcome.UNCHANGED)
        raise JobFinished(update.job_id, current.status)
    new_attempt = update.fencing_token > current.fencing_token
    if not new_attempt and update.percentage < current.percentage and not update.status.is_terminal:
        return UpdateResult(current, Outcome.UNCHANGED)
    percentage = update.percentage if new_attempt else max(update.percentage, current.percentage)
    record = replace(
        current,
        percentage=percentage,
        current_step=update.current_step,
        estimated_remaining_seconds=update.estimated_remaining_seconds,
        status=update.status,
        error=update.error,
        fencing_token=update.fencing_token,
        sequence=current.sequence + 1,
        updated_at_ms=now_ms,
    )
    return UpdateResult(record, Outcome.UPDATED)


def is_identical_repeat(current: ProgressRecord, update: ProgressUpdate) -> bool:
    """The terminal update a client sends again after losing the reply."""
    return (
        update.status == current.status
        and update.fencing_token == current.fencing_token
        and update.error == current.error
        and update.current_step == current.current_step
        and update.percentage <= current.percentage
    )


# ---- validation -------------------------------------------------------------------


def _check_id(violations: list[FieldViolation], name: str, value: str, *, required: bool) -> None:
    if not value:
        if required:
            violations.append(FieldViolation(name, "must not be empty"))
        return
    if len(value) > MAX_ID_LENGTH:
        violations.append(FieldViolation(name, f"must be at most {MAX_ID_LENGTH} characters"))
    elif not value.isprintable() or value != value.strip():
        violations.append(FieldViolation(name, "must be printable, without surrounding spaces"))


def validate_update(
    *,
    job_id: str,
    project_id: str,
    profile_id: str,
    percentage: float,
    current_step: str,
    estimated_remaining_seconds: float | None,
    status: int,
    error: str,
    fencing_token: int,
) -> ProgressUpdate:
    """A checked update, or InvalidArgument naming every bad field."""
    violations: list[FieldViolation] = []
    _check_id(violations, "job_id", job_id, required=True)
    _check_id(violations, "project_id", project_id, required=False)
    _check_id(violations, "profile_id", profile_id, required=False)
    if not math.isfinite(percentage) or not 0.0 <= percentage <= 100.0:
        violations.append(FieldViolation("percentage", "must be a number from 0 to 100"))
    if len(current_step) > MAX_STEP_LENGTH:
        violations.append(FieldViolation("current_step", f"must be at most {MAX_STEP_LENGTH} characters"))
    if estimated_remaining_seconds is not None and (
        not math.isfinite(estimated_remaining_seconds) or estimated_remaining_seconds < 0
    ):
        violations.append(FieldViolation("estimated_remaining_seconds", "must be a finite number of seconds >= 0"))
    if status not in JobStatus._value2member_map_:
        violations.append(FieldViolation("status", "must be one of QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED"))
    if len(error) > MAX_ERROR_LENGTH:
        violations.append(FieldViolation("error", f"must be at most {MAX_ERROR_LENGTH} characters"))
    if fencing_token < 0:
        violations.append(FieldViolation("fencing_token", "must not be negative"))
    if violations:
        raise invalid_fields(violations)
    return ProgressUpdate(
        job_id=job_id,
        project_id=project_id,
        profile_id=profile_id,
        percentage=float(percentage),
        current_step=current_step,
        estimated_remaining_seconds=estimated_remaining_seconds,
        status=JobStatus(status),
        error=error,
        fencing_token=fencing_token,
    )


@dataclass(frozen=True)
class Target:
    """What a Get/Watch/Clear is about: one job, or a project (its latest job)."""

    job_id: str = ""
    project_id: str = ""

    @property
    def by_project(self) -> bool:
        return not self.job_id


def validate_target(field_set: str | None, job_id: str, project_id: str, *, after_sequence: int = 0) -> Target:
    """`field_set` is the oneof member the caller set (None when neither)."""
    violations: list[FieldViolation] = []
    if field_set is None:
        violations.append(FieldViolation("target", "set job_id or project_id"))
    elif field_set == "job_id":
        _check_id(violations, "job_id", job_id, required=True)
    else:
        _check_id(violations, "project_id", project_id, required=True)
    if after_sequence < 0:
        violations.append(FieldViolation("after_sequence", "must not be negative"))
    if violations:
        raise invalid_fields(violations)
    return Target(job_id=job_id, project_id=project_id) if field_set == "job_id" else Target(project_id=project_id)
