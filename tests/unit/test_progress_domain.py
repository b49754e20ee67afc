"""The progress update rules (services/progress/domain.py), as pure functions."""

from __future__ import annotations

import math

import pytest

from editai_common.errors import InvalidArgument
from services.progress.domain import (
    JobFinished,
    JobStatus,
    Outcome,
    ProgressUpdate,
    StaleFencingToken,
    apply_update,
    validate_target,
    validate_update,
)


def update(
    percentage: float, status: JobStatus = JobStatus.RUNNING, token: int = 1, **fields: object
) -> ProgressUpdate:
    values: dict[str, object] = {
        "job_id": "job-1",
        "project_id": "project-1",
        "profile_id": "profile-1",
        "percentage": percentage,
        "current_step": "",
        "estimated_remaining_seconds": None,
        "status": status,
        "error": "",
        "fencing_token": token,
    }
    values.update(fields)
    return ProgressUpdate(**values)  # type: ignore[arg-type]


def test_first_update_creates_sequence_one() -> None:
    result = apply_update(None, update(5), now_ms=1000)
    assert result.outcome is Outcome.CREATED
    assert (result.record.sequence, result.record.created_at_ms, result.record.percentage) == (1, 1000, 5)


def test_percentage_never_goes_back_a_lower_update_is_ignored_and_answered_with_the_stored_value() -> None:
    """DESIGN §5.4 monotonicity: a straggler changes nothing and the caller sees what is stored."""
    stored = apply_update(None, update(30), 1).record
    result = apply_update(stored, update(20, current_step="late"), 2)
    assert result.outcome is Outcome.UNCHANGED
    assert result.record == stored


def test_terminal_update_with_lower_percentage_ends_the_job_but_keeps_the_higher_percentage() -> None:
    stored = apply_update(None, update(30), 1).record
    result = apply_update(stored, update(10, JobStatus.FAILED, error="boom"), 2)
    assert (result.record.status, result.record.percentage, result.record.sequence) == (JobStatus.FAILED, 30, 2)


def test_stale_fencing_token_is_refused() -> None:
    """DESIGN §5.3 fencing."""
    stored = apply_update(None, update(30, token=5), 1).record
    with pytest.raises(StaleFencingToken) as refused:
        apply_update(stored, update(90, token=4), 2)
    assert refused.value.reason == "STALE_FENCING_TOKEN"


def test_higher_fencing_token_starts_a_new_attempt_that_may_restart_percentage() -> None:
    stored = apply_update(None, update(60, token=1), 1).record
    result = apply_update(stored, update(0, JobStatus.QUEUED, token=2), 2)
    assert (result.record.percentage, result.record.fencing_token, result.record.sequence) == (0, 2, 2)


def test_update_after_terminal_is_refused_even_with_a_higher_token() -> None:
    done = apply_update(apply_update(None, update(50), 1).record, update(100, JobStatus.SUCCEEDED), 2).record
    for late in (update(100, JobStatus.RUNNING), update(100, JobStatus.SUCCEEDED, token=2)):
        with pytest.raises(JobFinished) as refused:
            apply_update(done, late, 3)
        assert refused.value.reason == "JOB_FINISHED"


def test_identical_terminal_repeat_is_idempotent() -> None:
    done = apply_update(apply_update(None, update(50), 1).record, update(100, JobStatus.SUCCEEDED), 2).record
    result = apply_update(done, update(100, JobStatus.SUCCEEDED), 3)
    assert result.outcome is Outcome.UNCHANGED and result.record == done


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"percentage": 100.5}, "percentage"),
        ({"percentage": -1.0}, "percentage"),
        ({"percentage": math.nan}, "percentage"),
        ({"percentage": math.inf}, "percentage"),
        ({"job_id": ""}, "job_id"),
        ({"job_id": "x" * 129}, "job_id"),
        ({"project_id": "p" * 129}, "project_id"),
        ({"status": 0}, "status"),
        ({"status": 42}, "status"),
        ({"estimated_remaining_seconds": -1.0}, "estimated_remaining_seconds"),
        ({"estimated_remaining_seconds": math.nan}, "estimated_remaining_seconds"),
        ({"current_step": "s" * 600}, "current_step"),
        ({"error": "e" * 5000}, "error"),
        ({"fencing_token": -1}, "fencing_token"),
    ],
)
def test_each_malformed_field_is_named(fields: dict[str, object], bad_field: str) -> None:
    values: dict[str, object] = {
        "job_id": "job-1",
        "project_id": "",
        "profile_id": "",
        "percentage": 10.0,
        "current_step": "",
        "estimated_remaining_seconds": None,
        "status": 2,
        "error": "",
        "fencing_token": 1,
    }
    values.update(fields)
    with pytest.raises(InvalidArgument) as refused:
        validate_update(**values)  # type: ignore[arg-type]
    assert [v.field for v in refused.value.violations] == [bad_field]


def test_every_bad_field_is_reported_at_once() -> None:
    with pytest.raises(InvalidArgument) as refused:
        validate_update(
            job_id="",
            project_id="",
            profile_id="",
            percentage=200.0,
            current_step="",
            estimated_remaining_seconds=None,
            status=0,
            error="",
            fencing_token=0,
        )
    assert {v.field for v in refused.value.violations} == {"job_id", "percentage", "status"}


def test_target_needs_one_non_empty_id() -> None:
    for which, job_id, project_id in ((None, "", ""), ("job_id", "", ""), ("project_id", "", "")):
        with pytest.raises(InvalidArgument):
            validate_target(which, job_id, project_id)
    with pytest.raises(InvalidArgument) as refused:
        validate_target("job_id", "j", "", after_sequence=-1)
    assert [v.field for v in refused.value.violations] == ["after_sequence"]
    assert validate_target("project_id", "", "p").by_project
