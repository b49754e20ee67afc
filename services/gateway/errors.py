"""Every error the gateway answers, as one JSON shape (DESIGN.md §4).

{"detail": "<sentence>", "error": {"code": <http>, "status": "<GRPC_CODE_NAME>",
                                    "reason": "UPPER_SNAKE", "details": [...]}}

ApiError                     the gateway's own refusals (413, 400 bad JSON, 401, 429 …)
grpc.aio.AioRpcError         a backend's answer, mapped by HTTP_STATUS_BY_CODE
RequestValidationError       FastAPI's parameter checks → 400 listing the fields (never 422)
StarletteHTTPException       routing (404 unknown path, 405 method)
Exception                    a bug → 500 with a generic sentence; the traceback goes to the log only
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

import grpc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from editai_common.errors import ErrorDetails, FieldViolation, details_from_rpc_error, http_status_for

log = logging.getLogger("gateway.errors")

_STATUS_NAME_BY_HTTP = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "UNIMPLEMENTED",
    409: "ABORTED",
    411: "INVALID_ARGUMENT",
    413: "OUT_OF_RANGE",
    415: "INVALID_ARGUMENT",
    416: "OUT_OF_RANGE",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


class ApiError(Exception):
    """A refusal decided by the gateway itself, before or instead of a backend call."""

    def __init__(
        self,
        http_status: int,
        detail: str,
        *,
        reason: str,
        violations: Sequence[FieldViolation] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.http_status = http_status
        self.detail = detail
        self.reason = reason
        self.violations = tuple(violations)
        self.headers = dict(headers or {})


def invalid_fields(violations: Sequence[FieldViolation], reason: str = "INVALID_ARGUMENT") -> ApiError:
    """One 400 naming every bad field."""
    summary = "; ".join(f"{v.field}: {v.description}" for v in violations)
    return ApiError(400, f"Invalid request: {summary}", reason=reason, violations=violations)


def error_body(
    http_status: int, detail: str, *, status_name: str, reason: str, details: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "detail": detail,
        "error": {"code": http_status, "status": status_name, "reason": reason, "details": details},
    }


def _violation_details(violations: Sequence[FieldViolation]) -> list[dict[str, Any]]:
    if not violations:
        return []
    return [
        {
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [{"field": v.field, "description": v.description} for v in violations],
        }
    ]


def api_error_response(error: ApiError) -> JSONResponse:
    status_name = _STATUS_NAME_BY_HTTP.get(error.http_status, "UNKNOWN")
    body = error_body(
        error.http_status,
        error.detail,
        status_name=status_name,
        reason=error.reason,
        details=_violation_details(error.violations),
    )
    return JSONResponse(body, status_code=error.http_status, headers=error.headers)


_SENTENCE_BY_CODE = {
    grpc.StatusCode.UNAVAILABLE: "A backend service is unavailable; try again shortly.",
    grpc.StatusCode.DEADLINE_EXCEEDED: "A backend service did not answer in time.",
    grpc.StatusCode.UNIMPLEMENTED: "This operation is not implemented yet.",
    grpc.StatusCode.CANCELLED: "The request was cancelled.",
}
_INTERNAL_CODES = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.DATA_LOSS}


def rpc_error_payload(details: ErrorDetails) -> tuple[int, dict[str, Any], dict[str, str]]:
    """HTTP status, JSON body and headers for a backend's error (DESIGN.md §4)."""
    http_status = http_status_for(details.code)
    if details.code in _INTERNAL_CODES:
        detail = "The service failed to handle the request."  # never a backend's internals
    else:
        detail = details.message or _SENTENCE_BY_CODE.get(details.code, details.code.name.replace("_", " ").lower())
    if details.code == grpc.StatusCode.UNAVAILABLE and not details.reason:
        detail = _SENTENCE_BY_CODE[grpc.StatusCode.UNAVAILABLE]  # connection errors carry transport text
    if details.code == grpc.StatusCode.DEADLINE_EXCEEDED and not details.reason:
        detail = _SENTENCE_BY_CODE[grpc.StatusCode.DEADLINE_EXCEEDED]
    extra: list[dict[str, Any]] = []
    if details.reason:
        extra.append(
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": details.reason,
                "domain": details.domain,
                "metadata": dict(details.metadata),
            }
        )
    extra.extend(_violation_details(details.violations))
    for resource in details.resources:
        extra.append(
            {
                "@type": "type.googleapis.com/google.rpc.ResourceInfo",
                "resourceType": resource.resource_type,
                "resourceName": resource.resource_name,
                "owner": resource.owner,
                "description": resource.description,
            }
        )
    headers: dict[str, str] = {}
    body = error_body(
        http_status, detail, status_name=details.code.name, reason=details.reason or details.code.name, details=extra
    )
    if details.code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        retry_after = details.retry_after_seconds if details.retry_after_seconds is not None else 1.0
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
        extra.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{retry_after:g}s"})
    if details.code == grpc.StatusCode.ABORTED:
        job_id = details.metadata.get("job_id") or next(
            (r.resource_name for r in details.resources if r.resource_type.endswith("Job")), ""
        )
        if job_id:
            body["job_id"] = job_id  # the running job, so the frontend can follow it
            body["error"]["job_id"] = job_id
    return http_status, body, headers


def rpc_error_response(error: grpc.RpcError) -> JSONResponse:
    details = details_from_rpc_error(error)
    if details.code in _INTERNAL_CODES:
        log.warning("backend failed: %s %s", details.code.name, details.message)
    http_status, body, headers = rpc_error_payload(details)
    return JSONResponse(body, status_code=http_status, headers=headers)


def _field_name(location: Sequence[Any]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or "body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def on_api_error(_: Request, exc: ApiError) -> JSONResponse:
        return api_error_response(exc)

    @app.exception_handler(grpc.aio.AioRpcError)
    async def on_rpc_error(_: Request, exc: grpc.aio.AioRpcError) -> JSONResponse:
        return rpc_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        violations = [FieldViolation(_field_name(e.get("loc", ())), str(e.get("msg", "invalid"))) for e in exc.errors()]
        return api_error_response(invalid_fields(violations))

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        reason = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP_ERROR")
        return api_error_response(
            ApiError(exc.status_code, str(exc.detail), reason=reason, headers=dict(exc.headers or {}))
        )

    @app.exception_handler(Exception)
    async def on_unhandled(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return api_error_response(ApiError(500, "The gateway failed to handle the request.", reason="INTERNAL"))


class ErrorInfoModel(BaseModel):
    code: int
    status: str
    reason: str
    details: list[dict[str, Any]]


class ErrorResponse(BaseModel):
    """The body of every error answer."""

    detail: str
    error: ErrorInfoModel


_ERROR_STATUSES = (400, 401, 403, 404, 409, 413, 415, 429, 499, 500, 501, 503, 504)
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": "Error"} for status in _ERROR_STATUSES
}
