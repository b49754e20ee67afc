"""Calling a progress service under test the way render and the gateway do."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import grpc

from editai.progress.v1 import progress_pb2, progress_pb2_grpc

RUNNING = progress_pb2.JOB_STATUS_RUNNING
SUCCEEDED = progress_pb2.JOB_STATUS_SUCCEEDED
FAILED = progress_pb2.JOB_STATUS_FAILED
QUEUED = progress_pb2.JOB_STATUS_QUEUED
DEADLINE = 5.0


def stub(channel: grpc.aio.Channel) -> progress_pb2_grpc.ProgressServiceStub:
    return progress_pb2_grpc.ProgressServiceStub(channel)


async def report(
    service: progress_pb2_grpc.ProgressServiceStub,
    job_id: str,
    percentage: float,
    *,
    status: int = RUNNING,
    project_id: str = "",
    profile_id: str = "profile-1",
    fencing_token: int = 1,
    step: str = "",
    error: str = "",
) -> progress_pb2.Progress:
    reply = await service.UpdateProgress(
        progress_pb2.UpdateProgressRequest(
            job_id=job_id,
            project_id=project_id,
            profile_id=profile_id,
            percentage=percentage,
            current_step=step,
            status=status,  # type: ignore[arg-type]
            error=error,
            fencing_token=fencing_token,
        ),
        timeout=DEADLINE,
    )
    return reply.progress


async def get_job(
    service: progress_pb2_grpc.ProgressServiceStub, job_id: str, *, metadata: Sequence[tuple[str, str]] = ()
) -> progress_pb2.Progress:
    request = progress_pb2.GetProgressRequest(job_id=job_id)
    reply = await service.GetProgress(request, timeout=DEADLINE, metadata=metadata)
    return reply.progress


async def get_project(service: progress_pb2_grpc.ProgressServiceStub, project_id: str) -> progress_pb2.Progress:
    reply = await service.GetProgress(progress_pb2.GetProgressRequest(project_id=project_id), timeout=DEADLINE)
    return reply.progress


class Watch:
    """A WatchProgress stream read in the background into `received`."""

    def __init__(self, service: progress_pb2_grpc.ProgressServiceStub, request: progress_pb2.WatchProgressRequest):
        self.call = service.WatchProgress(request, timeout=60)
        self.received: list[progress_pb2.Progress] = []
        self._changed = asyncio.Condition()
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.call:
            async with self._changed:
                self.received.append(message.progress)
                self._changed.notify_all()

    async def wait_for(self, percentage: float, within: float = 10.0) -> progress_pb2.Progress:
        async def seen() -> progress_pb2.Progress:
            async with self._changed:
                await self._changed.wait_for(lambda: any(p.percentage >= percentage for p in self.received))
                return next(p for p in self.received if p.percentage >= percentage)

        return await asyncio.wait_for(seen(), within)

    async def ended(self, within: float = 10.0) -> None:
        await asyncio.wait_for(self.task, within)

    def cancel(self) -> None:
        self.call.cancel()


async def serving_status(channel: grpc.aio.Channel, service: str) -> int:
    """The health status the service reports for `service` ("" = the whole process)."""
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
    return int(reply.status)
