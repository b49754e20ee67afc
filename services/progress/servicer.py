"""gRPC ProgressService: proto in → tracker call → proto out. Rules live in tracker/domain."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from editai.progress.v1 import progress_pb2, progress_pb2_grpc
from editai_common.identity import profile_from_metadata
from services.progress.domain import ProgressRecord, Target, validate_target, validate_update
from services.progress.tracker import ProgressTracker


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


class ProgressServicer(progress_pb2_grpc.ProgressServiceServicer):
    def __init__(self, tracker: ProgressTracker) -> None:
        self._tracker = tracker

    async def UpdateProgress(
        self, request: progress_pb2.UpdateProgressRequest, context: grpc.aio.ServicerContext
    ) -> progress_pb2.UpdateProgressResponse:
        update = validate_update(
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
        record = await self._tracker.update(update)
        return progress_pb2.UpdateProgressResponse(progress=progress_message(record))

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
