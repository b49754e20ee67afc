"""gRPC ProgressService: proto in → tracker call → proto out. Rules live in tracker/domain."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from editai.progress.v1 import progress_pb2, progress_pb2_grpc
from editai_common.errors import FieldViolation, InvalidArgument, ServiceError, invalid_fields, to_rpc_status
from editai_common.identity import profile_from_metadata
from services.progress.domain import (
    ProgressRecord,
    ProgressUpdate,
    Target,
    validate_target,
    validate_update,
)
from services.progress.tracker import ProgressTracker

# A bound on one call's work and reply size (a client coalescing 1,000 jobs fits in one).
MAX_BATCH_UPDATES = 1000


def progress_message(record: ProgressRecord) -> progress_pb2.Progress:
    updated_at = Timestamp()
    updated_at.FromMilliseconds(record.updated_at_ms)
    message = progress_pb2.Progress(
        job_id=record.job_id,
        project_id=record.project_id,
        profile_id=record.profile_id,
        percentage=record.percentage,
        current_step=record.current_step,
        status=int(record.status),  # type: ignore[arg-type]
        error=record.error,
        updated_at=updated_at,
        fencing_token=record.fencing_token,
        sequence=record.sequence,
    )
    if record.estimated_remaining_seconds is not None:
        message.estimated_remaining_seconds = record.estimated_remaining_seconds
    return message


def _target(
    request: progress_pb2.GetProgressRequest | progress_pb2.ClearProgressRequest | progress_pb2.WatchProgressRequest,
    after_sequence: int = 0,
) -> Target:
    return validate_target(
        request.WhichOneof("target"), request.job_id, request.project_id, after_sequence=after_sequence
    )


def _caller(context: grpc.aio.ServicerContext) -> str | None:
    """The profile named in metadata; without one the caller is trusted infrastructure (sees all)."""
    return profile_from_metadata(context.invocation_metadata()) or None


def _update(request: progress_pb2.UpdateProgressRequest) -> ProgressUpdate:
    return validate_update(
        job_id=request.job_id,
        project_id=request.project_id,
        profile_id=request.profile_id,
        percentage=request.percentage,
        current_step=request.current_step,
        estimated_remaining_seconds=(
            request.estimated_remaining_seconds if request.HasField("estimated_remaining_seconds") else None
        ),
        status=request.status,
        error=request.error,
        fencing_token=request.fencing_token,
    )


def _batch_item(index: int, request: progress_pb2.UpdateProgressRequest) -> ProgressUpdate | InvalidArgument:
    """A checked item, or its InvalidArgument with fields named `updates[i].field`."""
    try:
        return _update(request)
    except InvalidArgument as error:
        return invalid_fields(FieldViolation(f"updates[{index}].{v.field}", v.description) for v in error.violations)


def _item_status(error: ServiceError, domain: str) -> progress_pb2.ItemStatus:
    status = to_rpc_status(error, domain=domain)
    return progress_pb2.ItemStatus(code=status.code, message=status.message, details=status.details)


class ProgressServicer(progress_pb2_grpc.ProgressServiceServicer):
    def __init__(self, tracker: ProgressTracker, *, domain: str) -> None:
        self._tracker = tracker
        self._domain = domain

    async def UpdateProgress(
        self, request: progress_pb2.UpdateProgressRequest, context: grpc.aio.ServicerContext
    ) -> progress_pb2.UpdateProgressResponse:
        record = await self._tracker.update(_update(request))
        return progress_pb2.UpdateProgressResponse(progress=progress_message(record))

    async def BatchUpdateProgress(
        self, request: progress_pb2.BatchUpdateProgressRequest, context: grpc.aio.ServicerContext
    ) -> progress_pb2.BatchUpdateProgressResponse:
        count = len(request.updates)
        if not 1 <= count <= MAX_BATCH_UPDATES:
            raise invalid_fields(
                [FieldViolation("updates", f"must hold 1 to {MAX_BATCH_UPDATES} updates (got {count})")]
            )
        items = [_batch_item(i, item) for i, item in enumerate(request.updates)]
        valid = [item for item in items if isinstance(item, ProgressUpdate)]
        outcomes = iter(await self._tracker.update_many(valid)) if valid else iter(())
        results = []
        for item in items:
            outcome: ProgressRecord | ServiceError = next(outcomes) if isinstance(item, ProgressUpdate) else item
            if isinstance(outcome, ServiceError):
                results.append(progress_pb2.BatchUpdateResult(error=_item_status(outcome, self._domain)))
            else:
                results.append(progress_pb2.BatchUpdateResult(progress=progress_message(outcome)))
        return progress_pb2.BatchUpdateProgressResponse(results=results)

    async def GetProgress(
        self, request: progress_pb2.GetProgressRequest, context: grpc.aio.ServicerContext
    ) -> progress_pb2.GetProgressResponse:
        record = await self._tracker.get(_target(request), _caller(context))
        return progress_pb2.GetProgressResponse(progress=progress_message(record))

    async def ClearProgress(
        self, request: progress_pb2.ClearProgressRequest, context: grpc.aio.ServicerContext
    ) -> progress_pb2.ClearProgressResponse:
        cleared = await self._tracker.clear(_target(request), _caller(context))
        return progress_pb2.ClearProgressResponse(cleared_count=cleared)

    async def WatchProgress(  # type: ignore[override]
        self, request: progress_pb2.WatchProgressRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[progress_pb2.WatchProgressResponse]:
        target = _target(request, request.after_sequence)
        async for record in self._tracker.watch(target, _caller(context), request.after_sequence):
            yield progress_pb2.WatchProgressResponse(progress=progress_message(record))
