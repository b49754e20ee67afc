"""Reports job progress to the progress service (editai.progress.v1.ProgressService).

Progress is a view of the job, not the job: when the progress service is down or not
deployed yet, a report is logged and dropped, never a reason to fail the job. The one
answer that matters is STALE_FENCING_TOKEN: a newer attempt owns the job, so this
attempt must stop (raised as StaleFencingToken).
"""

from __future__ import annotations

import logging

import grpc

from editai.progress.v1 import progress_pb2, progress_pb2_grpc
from editai_common.errors import details_from_rpc_error
from services.render.jobs import JobStatus, StaleFencingToken

log = logging.getLogger("editai.render.progress")

REPORT_DEADLINE_SECONDS = 2.0

_STATUS = {
    JobStatus.QUEUED: progress_pb2.JOB_STATUS_QUEUED,
    JobStatus.RUNNING: progress_pb2.JOB_STATUS_RUNNING,
    JobStatus.SUCCEEDED: progress_pb2.JOB_STATUS_SUCCEEDED,
    JobStatus.FAILED: progress_pb2.JOB_STATUS_FAILED,
    JobStatus.CANCELLED: progress_pb2.JOB_STATUS_CANCELLED,
}


class GrpcProgressReporter:
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = progress_pb2_grpc.ProgressServiceStub(channel)
        self._warned_codes: set[grpc.StatusCode] = set()

    async def report(
        self,
        *,
        job_id: str,
        project_id: str | None,
        profile_id: str,
        status: JobStatus,
        percentage: float,
        step: str,
        fencing_token: int,
        eta_seconds: float | None = None,
        error: str = "",
    ) -> None:
        request = progress_pb2.UpdateProgressRequest(
            job_id=job_id,
            project_id=project_id or "",
            profile_id=profile_id,
            percentage=max(0.0, min(100.0, percentage)),
            current_step=step,
            status=_STATUS[status],
            error=error,
            fencing_token=fencing_token,
        )
        if eta_seconds is not None:
            request.estimated_remaining_seconds = max(0.0, eta_seconds)
        try:
            await self._stub.UpdateProgress(request, timeout=REPORT_DEADLINE_SECONDS)
        except grpc.aio.AioRpcError as rpc_error:
            details = details_from_rpc_error(rpc_error)
            if details.code is grpc.StatusCode.ABORTED and details.reason == "STALE_FENCING_TOKEN":
                raise StaleFencingToken(job_id, fencing_token) from None
            # Warn once per kind of failure per process; the job goes on either way.
            level = logging.DEBUG if details.code in self._warned_codes else logging.WARNING
            if len(self._warned_codes) < 32:
                self._warned_codes.add(details.code)
            log.log(level, "progress report dropped", extra={"job_id": job_id, "code": details.code.name,
                                                             "reason": details.reason})  # fmt: skip
