"""Guarantee 1 (one job per project) across real render replicas."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest

from editai_common.errors import ErrorDetails, details_from_rpc_error
from tests.render_support.client import Render, put_video
from tests.render_support.fixtures import *  # noqa: F403 - fixtures
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.e2e


async def test_200_simultaneous_requests_on_3_replicas_accept_exactly_one(
    start_render: Callable[..., ServiceProcess],
    grpc_channel_factory: Callable[[str], grpc.aio.Channel],
    data_dir: Path,
) -> None:
    """Guarantee 1 (one job per project): of 200 simultaneous GenerateRawClips for one project sent to
    3 replicas, exactly 1 is accepted and 199 answer ABORTED / PROJECT_LOCKED naming the running job."""
    # API-only replicas: the accepted job stays queued, so the project stays busy for the whole burst.
    replicas = [start_render(EDITAI_RENDER_WORKERS="0") for _ in range(3)]
    profile = f"racer-{uuid.uuid4().hex[:8]}"
    clients = [Render(grpc_channel_factory(r.address), profile, timeout=30) for r in replicas]
    key = await put_video(data_dir, "uploads/race.mp4", seconds=1)
    project = await clients[0].new_project("race")
    await asyncio.gather(*(c.GetProject(project_id=project.id) for c in clients))  # connections up

    async def request(index: int) -> object:
        try:
            return await clients[index % 3].GenerateRawClips(project_id=project.id, video_key=key, variant_count=1)
        except grpc.aio.AioRpcError as error:
            return details_from_rpc_error(error)

    answers = await asyncio.gather(*(request(i) for i in range(200)))

    accepted = [a.job for a in answers if hasattr(a, "job")]  # type: ignore[attr-defined]
    refused = [a for a in answers if isinstance(a, ErrorDetails)]
    assert len(accepted) == 1, f"{len(accepted)} accepted"
    running_id = accepted[0].id
    assert len(refused) == 199
    for error in refused:
        assert (error.code, error.reason) == (grpc.StatusCode.ABORTED, "PROJECT_LOCKED"), error
        assert error.metadata["job_id"] == running_id
        assert {r.resource_name for r in error.resources} == {project.id, running_id}
    assert (await clients[1].GetProject(project_id=project.id)).project.active_job_id == running_id
    await clients[2].CancelProject(project_id=project.id)
    assert (await clients[0].GetProject(project_id=project.id)).project.active_job_id == ""
