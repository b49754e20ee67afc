"""Operations: a job's worker logs under the request id of the call that started it,
so one id follows a request from the gateway into the background work it caused."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from editai.render.v1 import render_pb2, render_pb2_grpc
from tests.render_support.client import put_video
from tests.render_support.fixtures import *  # noqa: F403 - fixtures
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.e2e


async def test_worker_log_lines_carry_the_starting_request_id(
    start_render: Callable[..., ServiceProcess], grpc_channel_factory: Callable[[str], object], data_dir: Path
) -> None:
    process = start_render()
    stub = render_pb2_grpc.RenderServiceStub(grpc_channel_factory(process.address))  # type: ignore[arg-type]
    request_id = f"req-{uuid.uuid4().hex[:12]}"
    metadata = (("x-profile-id", "tracer"), ("x-request-id", request_id))
    key = await put_video(data_dir, "uploads/trace.mp4", seconds=1)
    created = await stub.CreateProject(render_pb2.CreateProjectRequest(name="trace"), metadata=metadata, timeout=10)
    project = created.project

    job = (
        await stub.GenerateRawClips(
            render_pb2.GenerateRawClipsRequest(project_id=project.id, video_key=key, variant_count=1),
            metadata=metadata, timeout=10,
        )
    ).job  # fmt: skip
    for _ in range(300):
        current = (await stub.GetJob(render_pb2.GetJobRequest(job_id=job.id), metadata=metadata, timeout=10)).job
        if current.status not in (render_pb2.JOB_STATUS_QUEUED, render_pb2.JOB_STATUS_RUNNING):
            break
        await asyncio.sleep(0.1)
    assert current.status == render_pb2.JOB_STATUS_SUCCEEDED, current.error

    worker_lines = process.wait_for_log_entries(job_id=job.id, event="job started")
    assert worker_lines, "the worker logs the job's start"
    assert all(line.get("request_id") == request_id for line in worker_lines)
