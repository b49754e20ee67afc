"""A RenderService client that acts as one profile, plus small helpers for waiting on jobs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc

from editai.render.v1 import render_pb2, render_pb2_grpc
from editai_common.errors import ErrorDetails, details_from_rpc_error
from tests.support.media import make_video

TERMINAL = {render_pb2.JOB_STATUS_SUCCEEDED, render_pb2.JOB_STATUS_FAILED, render_pb2.JOB_STATUS_CANCELLED}


class Render:
    """Calls RenderService as `profile` (x-profile-id), always with a deadline."""

    def __init__(self, channel: grpc.aio.Channel, profile: str = "alice", timeout: float = 10.0) -> None:
        self.channel = channel
        self.stub = render_pb2_grpc.RenderServiceStub(channel)
        self.profile = profile
        self.timeout = timeout

    def as_profile(self, profile: str) -> Render:
        return Render(self.channel, profile, self.timeout)

    def __getattr__(self, method: str) -> Callable[..., Any]:
        rpc = getattr(self.stub, method)

        async def call(request: Any = None, **fields: Any) -> Any:
            if request is None:
                request = getattr(render_pb2, f"{method}Request")(**fields)
            return await rpc(request, metadata=(("x-profile-id", self.profile),), timeout=self.timeout)

        return call

    async def error_of(self, method: str, **fields: Any) -> ErrorDetails:
        try:
            await getattr(self, method)(**fields)
        except grpc.aio.AioRpcError as error:
            return details_from_rpc_error(error)
        raise AssertionError(f"{method} succeeded but an error was expected")

    async def job(self, job_id: str) -> render_pb2.Job:
        return (await self.GetJob(job_id=job_id)).job

    async def wait_job(
        self, job_id: str, until: Callable[[render_pb2.Job], bool] | None = None, within: float = 60.0
    ) -> render_pb2.Job:
        """Polls GetJob until `until(job)` (default: a terminal status)."""
        check = until or (lambda j: j.status in TERMINAL)
        deadline = time.monotonic() + within
        while True:
            job = await self.job(job_id)
            if check(job):
                return job
            if time.monotonic() > deadline:
                raise AssertionError(f"job {job_id} still {render_pb2.JobStatus.Name(job.status)} ({job.current_step})")
            await asyncio.sleep(0.05)

    async def new_project(self, name: str = "p", target_duration: float = 0) -> render_pb2.Project:
        return (await self.CreateProject(name=name, target_duration=target_duration)).project


async def put_video(data_dir: Path, key: str, *, seconds: float = 3.0, size: str = "320x240") -> str:
    """A lavfi test video (with a sine tone) stored in the media store under `key`."""
    path = data_dir / "media" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    await make_video(path, seconds=seconds, size=size)
    return key


def put_bytes(data_dir: Path, key: str, payload: bytes) -> str:
    path = data_dir / "media" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload)
    return key
