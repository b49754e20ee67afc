"""A request id given to render reaches progress's logs when render calls progress for it (one trace).

Two real processes: render (API only) and progress. Cancelling a job makes render report
the cancellation to progress inside the CancelJob call, over a channel from `open_channel`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest

from editai.render.v1 import render_pb2, render_pb2_grpc
from tests.render_support.client import Render, put_video
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.e2e


@pytest.fixture
def progress_service(start_service: Callable[..., ServiceProcess]) -> ServiceProcess:
    """Progress logging every call (successful ones are DEBUG lines)."""
    return start_service("progress", EDITAI_LOG_LEVEL="DEBUG")


async def test_a_request_id_follows_render_into_progress_in_one_trace(
    start_service: Callable[..., ServiceProcess],
    progress_service: ServiceProcess,
    grpc_channel_factory: Callable[[str], grpc.aio.Channel],
    data_dir: Path,
) -> None:
    # API only (no worker takes the job), and no tts: nothing here needs speech.
    env = {"EDITAI_PROGRESS_ADDR": progress_service.address, "EDITAI_TTS_ADDR": "127.0.0.1:9",
           "EDITAI_RENDER_WORKERS": "0", "EDITAI_LOG_LEVEL": "DEBUG"}  # fmt: skip
    render_process = start_service("render", **env)
    render = Render(grpc_channel_factory(render_process.address), f"ctx-{uuid.uuid4().hex[:8]}")
    key = await put_video(data_dir, "uploads/ctx.mp4", seconds=2)
    project = await render.new_project("ctx")
    job = (await render.GenerateRawClips(project_id=project.id, video_key=key, variant_count=1)).job

    request_id = f"cancel-{uuid.uuid4().hex[:8]}"
    stub = render_pb2_grpc.RenderServiceStub(grpc_channel_factory(render_process.address))
    await stub.CancelJob(
        render_pb2.CancelJobRequest(job_id=job.id),
        metadata=[("x-profile-id", render.profile), ("x-request-id", request_id)],
        timeout=10,
    )

    in_render = render_process.wait_for_log_entries(request_id=request_id)
    assert any(line.get("rpc") == "editai.render.v1.RenderService/CancelJob" for line in in_render), in_render
    in_progress = progress_service.wait_for_log_entries(request_id=request_id)
    assert in_progress, f"progress logged nothing for {request_id}:\n{progress_service.logs()[-2000:]}"
    assert {line.get("trace_id") for line in in_progress} <= {line.get("trace_id") for line in in_render}
