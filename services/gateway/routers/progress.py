"""A project's progress: the latest value (GET) and a live Server-Sent Events stream.

Both read the progress service (durable, profile-scoped). A project that never had
a job answers an idle object: `{"status": "idle", "percentage": 0, "job_id": null, ...}`
— but only after render confirms the project is the caller's, so another profile's
project is still a 404.

The stream sends `event: progress` with `id:` = the update's sequence, heartbeats
(`: ping`) while nothing changes, and ends after a terminal status. A reconnecting
EventSource sends `Last-Event-ID`, which becomes WatchProgress's `after_sequence`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

import grpc
from fastapi import APIRouter, Header, Response
from sse_starlette import EventSourceResponse, ServerSentEvent

from editai.progress.v1 import progress_pb2
from editai.render.v1 import render_pb2
from editai_common.errors import details_from_rpc_error
from services.gateway import presenters
from services.gateway.auth import Caller
from services.gateway.deps import CallerDep, RuntimeDep
from services.gateway.errors import ERROR_RESPONSES, rpc_error_payload
from services.gateway.runtime import Runtime

router = APIRouter(prefix="/library/projects", tags=["progress"], responses=ERROR_RESPONSES)
IDLE_RETRY_MS = 3000


async def _latest(runtime: Runtime, caller: Caller, project_id: str) -> progress_pb2.Progress | None:
    """The latest job's progress; None for the caller's project without jobs (else 404)."""
    try:
        reply = await runtime.progress.GetProgress(
            progress_pb2.GetProgressRequest(project_id=project_id), **runtime.call(caller)
        )
    except grpc.aio.AioRpcError as exc:
        if exc.code() != grpc.StatusCode.NOT_FOUND:
            raise
        await runtime.render.GetProject(render_pb2.GetProjectRequest(project_id=project_id), **runtime.call(caller))
        return None
    return reply.progress


@router.get("/{project_id}/progress")
async def get_progress(project_id: str, runtime: RuntimeDep, caller: CallerDep) -> dict[str, Any]:
    """`{percentage, current_step, estimated_remaining, status, job_id, updated_at}` of the latest job."""
    latest = await _latest(runtime, caller, project_id)
    return presenters.idle_progress() if latest is None else presenters.progress(latest)


def _after_sequence(last_event_id: str | None) -> int:
    try:
        return max(0, int(last_event_id or 0))
    except ValueError:
        return 0  # not one of ours: start from the current value


async def _events(
    runtime: Runtime, caller: Caller, project_id: str, after_sequence: int
) -> AsyncIterator[ServerSentEvent]:
    call = runtime.progress.WatchProgress(
        progress_pb2.WatchProgressRequest(project_id=project_id, after_sequence=after_sequence),
        metadata=caller.metadata(),
    )
    try:
        while True:
            reply = await call.read()
            if reply is grpc.aio.EOF:  # type: ignore[attr-defined]
                return
            progress = reply.progress  # type: ignore[union-attr]
            yield ServerSentEvent(
                data=json.dumps(presenters.progress(progress)), event="progress", id=str(progress.sequence)
            )
            if progress.status in presenters.TERMINAL_PROGRESS:
                return
    except grpc.aio.AioRpcError as exc:
        # Headers are gone already: the error travels as an event; the client reconnects.
        _, body, _ = rpc_error_payload(details_from_rpc_error(exc))
        yield ServerSentEvent(data=json.dumps(body), event="error")
    finally:
        call.cancel()


@router.get(
    "/{project_id}/progress/stream",
    response_class=EventSourceResponse,
    responses={
        200: {"description": "Server-Sent Events of progress objects.", "content": {"text/event-stream": {}}},
        204: {"description": "The client has seen the job's end already (EventSource stops reconnecting)."},
    },
)
async def stream_progress(
    project_id: str,
    runtime: RuntimeDep,
    caller: CallerDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> Response:
    latest = await _latest(runtime, caller, project_id)  # 404 / 503 as HTTP statuses, before streaming
    ping = runtime.settings.sse_ping_seconds
    after = _after_sequence(last_event_id)
    if latest is None:

        async def idle() -> AsyncIterator[ServerSentEvent]:
            # EventSource reconnects after the stream closes: every few seconds until a job starts.
            yield ServerSentEvent(data=json.dumps(presenters.idle_progress()), event="progress", retry=IDLE_RETRY_MS)

        return EventSourceResponse(idle(), ping=ping)
    if last_event_id and latest.status in presenters.TERMINAL_PROGRESS and latest.sequence <= after:
        # The browser reconnects on its own after the final event; 204 is the spec's way to make it stop.
        return Response(status_code=204)
    return EventSourceResponse(_events(runtime, caller, project_id, after), ping=ping)
