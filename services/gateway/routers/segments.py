"""/segments: upload source videos and cut segments from them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from editai.render.v1 import render_pb2
from services.gateway import presenters
from services.gateway.deps import CallerDep, RuntimeDep
from services.gateway.errors import ERROR_RESPONSES
from services.gateway.forms import CreateSegmentBody
from services.gateway.media_sniff import MediaKind
from services.gateway.openapi_forms import multipart_body
from services.gateway.uploads import FileField, receive_upload

router = APIRouter(prefix="/segments", tags=["segments"], responses=ERROR_RESPONSES)


@router.post(
    "/source-videos",
    status_code=201,
    openapi_extra=multipart_body({"video": ("The source video.", True)}),
)
async def upload_source_video(request: Request, runtime: RuntimeDep, caller: CallerDep) -> dict[str, Any]:
    """Upload a video to cut segments from; the render service probes it (duration, size)."""
    files = [FileField("video", MediaKind.VIDEO, required=True)]
    async with receive_upload(request, runtime.store, files, limit_bytes=runtime.settings.max_upload_bytes) as form:
        video = form.files["video"]
        reply = await runtime.render.CreateSourceVideo(
            render_pb2.CreateSourceVideoRequest(media_key=video.key, name=video.filename or "video"),
            **runtime.call(caller),
        )
    return presenters.source_video(reply.source_video)


@router.get("/source-videos")
async def list_source_videos(runtime: RuntimeDep, caller: CallerDep) -> list[dict[str, Any]]:
    reply = await runtime.render.ListSourceVideos(render_pb2.ListSourceVideosRequest(), **runtime.call(caller))
    return [presenters.source_video(v) for v in reply.source_videos]


@router.post("", status_code=201)
async def create_segment(body: CreateSegmentBody, runtime: RuntimeDep, caller: CallerDep) -> dict[str, Any]:
    reply = await runtime.render.CreateSegment(
        render_pb2.CreateSegmentRequest(
            source_video_id=body.source_video_id,
            start_time=body.start_time,
            end_time=body.end_time,
            keywords=body.keywords,
        ),
        **runtime.call(caller),
    )
    return presenters.segment(reply.segment)


@router.get("")
async def list_segments(runtime: RuntimeDep, caller: CallerDep) -> list[dict[str, Any]]:
    reply = await runtime.render.ListSegments(render_pb2.ListSegmentsRequest(), **runtime.call(caller))
    return [presenters.segment(s) for s in reply.segments]
