"""Operations: after a render job runs, the render service's /metrics shows jobs by kind
and state, the queue depth and the ffmpeg seconds it spent, with their labels."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import grpc
import httpx
import pytest

from editai.render.v1 import render_pb2
from tests.integration.test_observability_job_metrics import sample_values
from tests.render_support.client import Render, put_video
from tests.render_support.fixtures import *  # noqa: F403 - fixtures
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.e2e


async def test_jobs_by_state_and_ffmpeg_seconds_after_a_job(
    start_render: Callable[..., ServiceProcess], grpc_channel_factory: Callable[[str], object], data_dir: Path
) -> None:
    process = start_render()
    render = Render(grpc_channel_factory(process.address), f"ops-{uuid.uuid4().hex[:8]}")  # type: ignore[arg-type]
    key = await put_video(data_dir, "uploads/m.mp4", seconds=2)
    project = await render.new_project(target_duration=1)
    job = (await render.GenerateRawClips(project_id=project.id, video_key=key, variant_count=1)).job
    with pytest.raises(grpc.aio.AioRpcError):
        await render.GenerateRawClips(project_id=project.id, video_key=key, variant_count=1)
    done = await render.wait_job(job.id)
    assert done.status == render_pb2.JOB_STATUS_SUCCEEDED, done.error

    async with httpx.AsyncClient() as client:
        values = sample_values((await client.get(f"http://127.0.0.1:{process.metrics_port}/metrics", timeout=5)).text)

    kind = (("kind", "generate_raw_clips"),)
    assert values[("editai_render_jobs_total", (*kind, ("state", "accepted")))] == 1
    assert values[("editai_render_jobs_total", (*kind, ("state", "rejected_locked")))] == 1
    assert values[("editai_render_jobs_total", (*kind, ("state", "started")))] == 1
    assert values[("editai_render_jobs_total", (*kind, ("state", "completed")))] == 1
    assert values[("editai_render_jobs_active", kind)] == 0
    assert ("editai_render_queue_depth", ()) in values
    ffmpeg_runs = [v for (name, _), v in values.items() if name == "editai_ffmpeg_seconds_count"]
    assert sum(ffmpeg_runs) >= 1
