"""/library/projects: create, list, read, delete, generate clips, cancel, segments, clips."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from editai.render.v1 import render_pb2
from services.gateway import presenters
from services.gateway.deps import CallerDep, IdempotencyKey, JobRateLimit, RuntimeDep
from services.gateway.errors import ERROR_RESPONSES
from services.gateway.forms import (
    CreateProjectBody,
    GenerateFields,
    GenerateFromSegmentsBody,
    ProjectSegmentsBody,
    checked_fields,
)
from services.gateway.media_sniff import MediaKind
from services.gateway.openapi_forms import multipart_body
from services.gateway.uploads import FileField, receive_upload

router = APIRouter(prefix="/library/projects", tags=["library: projects"], responses=ERROR_RESPONSES)

SELECTION_MODES = {
    "random": render_pb2.SELECTION_MODE_RANDOM,
    "sequential": render_pb2.SELECTION_MODE_SEQUENTIAL,
    "weighted": render_pb2.SELECTION_MODE_WEIGHTED,
}


@router.post("", status_code=201)
async def create_project(body: CreateProjectBody, runtime: RuntimeDep, caller: CallerDep) -> dict[str, Any]:
    reply = await runtime.render.CreateProject(
        render_pb2.CreateProjectRequest(
            name=body.name, description=body.description, target_duration=body.target_duration or 0
        ),
        **runtime.call(caller),
    )
    return presenters.project(reply.project)


@router.get("")
async def list_projects(runtime: RuntimeDep, caller: CallerDep) -> list[dict[str, Any]]:
    reply = await runtime.render.ListProjects(render_pb2.ListProjectsRequest(page_size=500), **runtime.call(caller))
    return [presenters.project(p) for p in reply.projects]


@router.get("/{project_id}")
async def get_project(project_id: str, runtime: RuntimeDep, caller: CallerDep) -> dict[str, Any]:
    reply = await runtime.render.GetProject(render_pb2.GetProjectRequest(project_id=project_id), **runtime.call(caller))
    return presenters.project(reply.project)


@router.delete("/{project_id}", status_code=204)
async def delete_project(project_id: str, runtime: RuntimeDep, caller: CallerDep) -> Response:
    await runtime.render.DeleteProject(render_pb2.DeleteProjectRequest(project_id=project_id), **runtime.call(caller))
    return Response(status_code=204)


@router.post(
    "/{project_id}/generate",
    status_code=202,
    dependencies=[JobRateLimit],
    openapi_extra=multipart_body({"video": ("The source video.", True)}, GenerateFields),
)
async def generate_raw_clips(
    project_id: str, request: Request, runtime: RuntimeDep, caller: CallerDep, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    """Upload a source video and cut `variant_count` raw clips from it (in the background)."""
    files = [FileField("video", MediaKind.VIDEO, required=True)]
    async with receive_upload(request, runtime.store, files, limit_bytes=runtime.settings.max_upload_bytes) as form:
        fields = checked_fields(GenerateFields, form.fields)
        reply = await runtime.render.GenerateRawClips(
            render_pb2.GenerateRawClipsRequest(
                request_id=idempotency_key or "",
                project_id=project_id,
                video_key=form.files["video"].key,
                variant_count=fields.variant_count,
            ),
            **runtime.call(caller),
        )
    return {
        "status": "generating",
        "project_id": project_id,
        "variant_count": fields.variant_count,
        "job_id": reply.job.id,
        "message": f"Generating {fields.variant_count} clips in the background.",
    }


@router.post("/{project_id}/generate-from-segments", status_code=202, dependencies=[JobRateLimit])
async def generate_from_segments(
    project_id: str,
    body: GenerateFromSegmentsBody,
    runtime: RuntimeDep,
    caller: CallerDep,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    reply = await runtime.render.GenerateFromSegments(
        render_pb2.GenerateFromSegmentsRequest(
            request_id=idempotency_key or "",
            project_id=project_id,
            variant_count=body.variant_count,
            selection_mode=SELECTION_MODES[body.selection_mode],
            target_duration=body.target_duration,
            mute_source_voice=body.mute_source_voice,
        ),
        **runtime.call(caller),
    )
    return {
        "status": "generating",
        "project_id": project_id,
        "variant_count": body.variant_count,
        "segments_count": reply.segments_count,
        "job_id": reply.job.id,
    }


@router.post("/{project_id}/cancel")
async def cancel_project(project_id: str, runtime: RuntimeDep, caller: CallerDep) -> dict[str, Any]:
    reply = await runtime.render.CancelProject(
        render_pb2.CancelProjectRequest(project_id=project_id), **runtime.call(caller)
    )
    return {"status": "cancelled", "project_id": project_id, "cancelled_job_ids": list(reply.cancelled_job_ids)}


@router.get("/{project_id}/clips")
async def list_clips(project_id: str, runtime: RuntimeDep, caller: CallerDep) -> list[dict[str, Any]]:
    reply = await runtime.render.ListClips(render_pb2.ListClipsRequest(project_id=project_id), **runtime.call(caller))
    return [presenters.clip(c) for c in reply.clips]


@router.post("/{project_id}/segments", status_code=201)
async def set_project_segments(
    project_id: str, body: ProjectSegmentsBody, runtime: RuntimeDep, caller: CallerDep
) -> dict[str, Any]:
    reply = await runtime.render.SetProjectSegments(
        render_pb2.SetProjectSegmentsRequest(project_id=project_id, segment_ids=body.segment_ids),
        **runtime.call(caller),
    )
    return {"project_id": project_id, "segments": [presenters.segment(s) for s in reply.segments]}


@router.get("/{project_id}/segments")
async def list_project_segments(project_id: str, runtime: RuntimeDep, caller: CallerDep) -> list[dict[str, Any]]:
    reply = await runtime.render.ListSegments(
        render_pb2.ListSegmentsRequest(project_id=project_id), **runtime.call(caller)
    )
    return [presenters.segment(s) for s in reply.segments]
