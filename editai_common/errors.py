"""Errors that cross a service boundary, and how they map to gRPC and HTTP.

Every service raises subclasses of `ServiceError`; the gRPC interceptor in
`grpc_server` turns them into a `google.rpc.Status` in exactly one place:

    ServiceError                    (code, reason, message)
    ├── InvalidArgument             INVALID_ARGUMENT, with BadRequest.FieldViolations
    ├── FailedPrecondition          FAILED_PRECONDITION
    ├── NotFound                    NOT_FOUND, with ResourceInfo
    ├── AlreadyExists               ALREADY_EXISTS
    ├── Aborted                     ABORTED (lost a race, stale fencing token)
    │   └── ProjectLocked           ABORTED / PROJECT_LOCKED, ResourceInfo of project and job
    ├── ResourceExhausted           RESOURCE_EXHAUSTED, with RetryInfo
    ├── Unauthenticated             UNAUTHENTICATED
    ├── PermissionDenied            PERMISSION_DENIED
    ├── Unavailable                 UNAVAILABLE (a backend is down; retry later)
    ├── DeadlineExceeded            DEADLINE_EXCEEDED
    ├── Cancelled                   CANCELLED
    └── Internal                    INTERNAL (a bug; the message never carries internals)

`HTTP_STATUS_BY_CODE` is the gateway's table (DESIGN.md §4, as grpc-gateway maps).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status


@dataclass(frozen=True)
class FieldViolation:
    """One bad field of a request: its name (dotted path) and what is wrong with it."""

    field: str
    description: str


@dataclass(frozen=True)
class Resource:
    """A resource named in an error (ResourceInfo): its type, name and owner."""

    resource_type: str
    resource_name: str
    owner: str = ""
    description: str = ""


class ServiceError(Exception):
    """Base of every error a service reports to its callers.

    `reason` is UPPER_SNAKE and stable (clients switch on it); `message` is a
    sentence for humans.
    """

    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN
    default_reason: str = "UNKNOWN"

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
        violations: Sequence[FieldViolation] = (),
        resources: Sequence[Resource] = (),
        retry_after_seconds: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason or self.default_reason
        self.metadata = dict(metadata or {})
        self.violations = tuple(violations)
        self.resources = tuple(resources)
        self.retry_after_seconds = retry_after_seconds


class InvalidArgument(ServiceError):
    """The request is malformed; `violations` names each bad field."""

    code = grpc.StatusCode.INVALID_ARGUMENT
    default_reason = "INVALID_ARGUMENT"


class FailedPrecondition(ServiceError):
    """The request is well formed but the system is not in a state to run it."""

    code = grpc.StatusCode.FAILED_PRECONDITION
    default_reason = "FAILED_PRECONDITION"


class NotFound(ServiceError):
    """The resource does not exist, or belongs to another profile."""

    code = grpc.StatusCode.NOT_FOUND
    default_reason = "NOT_FOUND"


class AlreadyExists(ServiceError):
    """A resource with that identity exists already."""

    code = grpc.StatusCode.ALREADY_EXISTS
    default_reason = "ALREADY_EXISTS"


class Aborted(ServiceError):
    """Lost a concurrency race (a busy project, a stale fencing token); retry later."""

    code = grpc.StatusCode.ABORTED
    default_reason = "ABORTED"


class ProjectLocked(Aborted):
    """The project already has an active job; names the project and that job."""

    default_reason = "PROJECT_LOCKED"

    def __init__(self, project_id: str, running_job_id: str) -> None:
        super().__init__(
            f"Project {project_id} is busy with job {running_job_id}; wait for it to finish or cancel it.",
            metadata={"project_id": project_id, "job_id": running_job_id},
            resources=(
                Resource("editai.render.v1.Project", project_id, description="busy project"),
                Resource("editai.render.v1.Job", running_job_id, description="running job"),
            ),
        )
        self.project_id = project_id
        self.running_job_id = running_job_id


class ResourceExhausted(ServiceError):
    """A quota or rate limit was hit; `retry_after_seconds` says when to retry."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    default_reason = "RESOURCE_EXHAUSTED"


class Unauthenticated(ServiceError):
    """The caller's credentials are missing or invalid."""

    code = grpc.StatusCode.UNAUTHENTICATED
    default_reason = "UNAUTHENTICATED"


class PermissionDenied(ServiceError):
    """The caller is known but may not do this."""

    code = grpc.StatusCode.PERMISSION_DENIED
    default_reason = "PERMISSION_DENIED"


class Unavailable(ServiceError):
    """A dependency is unreachable; the call may succeed later."""

    code = grpc.StatusCode.UNAVAILABLE
    default_reason = "UNAVAILABLE"


class DeadlineExceeded(ServiceError):
    """The work did not finish within the caller's deadline."""

    code = grpc.StatusCode.DEADLINE_EXCEEDED
    default_reason = "DEADLINE_EXCEEDED"


class Cancelled(ServiceError):
    """The work was cancelled."""

    code = grpc.StatusCode.CANCELLED
    default_reason = "CANCELLED"


class Internal(ServiceError):
    """A bug. The message is generic; details go to the log, never to the caller."""

    code = grpc.StatusCode.INTERNAL
    default_reason = "INTERNAL"


def invalid_fields(violations: Iterable[FieldViolation], *, reason: str = "INVALID_ARGUMENT") -> InvalidArgument:
    """One InvalidArgument listing every bad field in its message and details."""
    items = tuple(violations)
    summary = "; ".join(f"{v.field}: {v.description}" for v in items)
    return InvalidArgument(f"Invalid request: {summary}", reason=reason, violations=items)


def _pack(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)  # type: ignore[arg-type]
    return packed


def to_rpc_status(error: ServiceError, *, domain: str) -> status_pb2.Status:
    """Build the google.rpc.Status carried in the grpc-status-details-bin trailer."""
    details = [_pack(error_details_pb2.ErrorInfo(reason=error.reason, domain=domain, metadata=error.metadata))]
    if error.violations:
        details.append(
            _pack(
                error_details_pb2.BadRequest(
                    field_violations=[
                        error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                        for v in error.violations
                    ]
                )
            )
        )
    for resource in error.resources:
        details.append(
            _pack(
                error_details_pb2.ResourceInfo(
                    resource_type=resource.resource_type,
                    resource_name=resource.resource_name,
                    owner=resource.owner,
                    description=resource.description,
                )
            )
        )
    if error.retry_after_seconds is not None:
        delay = duration_pb2.Duration()
        delay.FromMilliseconds(int(error.retry_after_seconds * 1000))
        details.append(_pack(error_details_pb2.RetryInfo(retry_delay=delay)))
    return status_pb2.Status(code=error.code.value[0], message=error.message, details=details)


def to_grpc_status(error: ServiceError, *, domain: str) -> grpc.Status:
    """The grpc.Status to pass to `context.abort_with_status`."""
    return rpc_status.to_status(to_rpc_status(error, domain=domain))


@dataclass(frozen=True)
class ErrorDetails:
    """What a client reads back from a failed call: the decoded google.rpc.Status."""

    code: grpc.StatusCode
    message: str
    reason: str = ""
    domain: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    violations: tuple[FieldViolation, ...] = ()
    resources: tuple[Resource, ...] = ()
    retry_after_seconds: float | None = None


def details_from_rpc_error(error: grpc.RpcError) -> ErrorDetails:
    """Decode the rich error model from a failed call (works with aio errors too)."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    message = error.details() if hasattr(error, "details") else str(error)
    status = rpc_status.from_call(error) if hasattr(error, "trailing_metadata") else None  # type: ignore[arg-type]
    if status is None:
        return ErrorDetails(code=code, message=message or "")
    reason = domain = ""
    metadata: dict[str, str] = {}
    violations: list[FieldViolation] = []
    resources: list[Resource] = []
    retry_after: float | None = None
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason, domain, metadata = info.reason, info.domain, dict(info.metadata)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            violations.extend(FieldViolation(v.field, v.description) for v in bad.field_violations)
        elif detail.Is(error_details_pb2.ResourceInfo.DESCRIPTOR):
            res = error_details_pb2.ResourceInfo()
            detail.Unpack(res)
            resources.append(Resource(res.resource_type, res.resource_name, res.owner, res.description))
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            detail.Unpack(retry)
            retry_after = retry.retry_delay.ToMilliseconds() / 1000
    return ErrorDetails(
        code=code,
        message=status.message,
        reason=reason,
        domain=domain,
        metadata=metadata,
        violations=tuple(violations),
        resources=tuple(resources),
        retry_after_seconds=retry_after,
    )


# DESIGN.md §4: gRPC status → HTTP status, as grpc-gateway maps them.
HTTP_STATUS_BY_CODE: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.DATA_LOSS: 500,
}


def http_status_for(code: grpc.StatusCode) -> int:
    """HTTP status for a gRPC code (500 for anything unexpected)."""
    return HTTP_STATUS_BY_CODE.get(code, 500)
