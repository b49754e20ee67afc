"""Graceful shutdown of a render worker mid-job (issue 7): SIGTERM, the job is handed back.

Real processes: a render API (no workers), two render workers, progress. The worker
running the job gets SIGTERM (what Kubernetes and compose send); it must exit cleanly,
and the job must end SUCCEEDED on the other worker — not lost (guarantee 5), not run
twice to completion (exactly the requested clips), and the project free afterwards.

The lease here is long (24 s): a worker that just vanished would leave the job waiting
for its lease to run out, so a prompt restart on the other worker shows the lease was
handed back, not lost.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest

from editai.render.v1 import render_pb2
from tests.render_support.client import Render, put_video
from tests.render_support.fixtures import *  # noqa: F403 - fixtures
from tests.support.processes import ServiceProcess

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

LEASE_TTL = 24.0
HANDBACK_BUDGET = 18.0  # reaper interval (TTL / 3) + delivery + slack on a loaded 2-core machine


async def test_sigterm_on_a_worker_mid_job_hands_the_job_to_another_worker(
    start_render: Callable[..., ServiceProcess],
    grpc_channel_factory: Callable[[str], grpc.aio.Channel],
    data_dir: Path,
) -> None:
    lease = {"EDITAI_RENDER_LEASE_TTL_SECONDS": str(LEASE_TTL)}
    api = start_render(EDITAI_RENDER_WORKERS="0", **lease)
    stopping = start_render("render.worker", **lease)
    render = Render(grpc_channel_factory(api.address), f"handback-{uuid.uuid4().hex[:8]}")
    key = await put_video(data_dir, "uploads/handback.mp4", seconds=16)
    project = await render.new_project("handback", target_duration=16)
    job = (await render.GenerateRawClips(project_id=project.id, video_key=key, variant_count=2)).job
    running = await render.wait_job(
        job.id, lambda j: j.status == render_pb2.JOB_STATUS_RUNNING and j.percentage > 2, within=90
    )
    other = start_render("render.worker", **lease)  # started now, so the job can only have been on `stopping`

    exit_code = await asyncio.to_thread(stopping.terminate, 60.0)
    stopped_at = time.monotonic()

    assert exit_code == 0, f"the worker did not shut down cleanly:\n{stopping.logs()[-3000:]}"
    await render.wait_job(job.id, lambda j: j.fencing_token > running.fencing_token, within=LEASE_TTL * 3)
    resumed_after = time.monotonic() - stopped_at
    assert resumed_after < HANDBACK_BUDGET, f"resumed after {resumed_after:.1f} s: the lease was not handed back"
    done = await render.wait_job(job.id, within=240)
    assert done.status == render_pb2.JOB_STATUS_SUCCEEDED, (done.error_reason, done.error)
    assert done.fencing_token > running.fencing_token, "finished by a new attempt, not the stopped one"
    clips = (await render.ListClips(project_id=project.id)).clips
    assert len(clips) == 2, "the job's outputs exist once, not once per attempt"
    assert other.is_running()
    # The project is free again: a new job is accepted at once.
    again = await render.GenerateRawClips(project_id=project.id, video_key=key, variant_count=1)
    await render.CancelJob(job_id=again.job.id)
