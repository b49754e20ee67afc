"""The shared error model: rich statuses round-trip, and every gRPC code maps to
the HTTP status of DESIGN.md §4."""

from __future__ import annotations

import grpc
import pytest

from editai_common.errors import (
    HTTP_STATUS_BY_CODE,
    FieldViolation,
    ProjectLocked,
    ResourceExhausted,
    ServiceError,
    http_status_for,
    invalid_fields,
    to_rpc_status,
)

DESIGN_TABLE = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "OUT_OF_RANGE": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ABORTED": 409,
    "ALREADY_EXISTS": 409,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,
    "UNIMPLEMENTED": 501,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
    "INTERNAL": 500,
    "UNKNOWN": 500,
    "DATA_LOSS": 500,
}


@pytest.mark.parametrize(("code_name", "http"), sorted(DESIGN_TABLE.items()))
def test_each_grpc_code_maps_to_the_designed_http_status(code_name: str, http: int) -> None:
    assert http_status_for(grpc.StatusCode[code_name]) == http


def test_every_non_ok_code_has_a_mapping() -> None:
    unmapped = {c for c in grpc.StatusCode if c is not grpc.StatusCode.OK} - set(HTTP_STATUS_BY_CODE)
    assert unmapped == set()


def test_project_locked_names_project_and_running_job() -> None:
    status = to_rpc_status(ProjectLocked("p1", "j9"), domain="render.editai")

    assert status.code == grpc.StatusCode.ABORTED.value[0]
    type_urls = [d.type_url.rsplit("/", 1)[-1] for d in status.details]
    assert type_urls == ["google.rpc.ErrorInfo", "google.rpc.ResourceInfo", "google.rpc.ResourceInfo"]
    assert b"PROJECT_LOCKED" in status.details[0].value
    assert b"j9" in status.details[2].value


def test_invalid_fields_lists_every_violation_in_message_and_details() -> None:
    error = invalid_fields([FieldViolation("percentage", "must be 0-100"), FieldViolation("job_id", "required")])

    assert "percentage: must be 0-100" in error.message and "job_id: required" in error.message
    status = to_rpc_status(error, domain="progress.editai")
    assert [d.type_url.rsplit("/", 1)[-1] for d in status.details] == ["google.rpc.ErrorInfo", "google.rpc.BadRequest"]


def test_retry_after_travels_as_retry_info() -> None:
    status = to_rpc_status(ResourceExhausted("slow down", retry_after_seconds=2.5), domain="x")
    assert status.details[-1].type_url.endswith("google.rpc.RetryInfo")


def test_reason_defaults_per_class() -> None:
    assert ServiceError("x").reason == "UNKNOWN"
    assert ProjectLocked("p", "j").reason == "PROJECT_LOCKED"
