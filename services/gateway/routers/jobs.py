"""/jobs: one-shot processing of an uploaded video (with optional audio and SRT)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from starlette.responses import FileResponse

from editai.render.v1 import render_pb2
from services.gateway import presenters
from services.gateway.deps import CallerDep, IdempotencyKey, JobRateLimit, RuntimeDep
from services.gateway.downloads import media_file
from services.gateway.errors import ERROR_RESPONSES, ApiError
from services.gateway.forms import JobFields, checked_fields
from services.gateway.media_sniff import MediaKind
from services.gateway.openapi_forms import multipart_body
from services.gateway.subtitles import subtitle_settings_from_json
from services.gateway.uploads import FileField, receive_upload

router = APIRouter(prefix="/jobs", tags=["jobs"], responses=ERROR_RESPONSES)

JOB_FILES = [
    FileField("video", MediaKind.VIDEO, required=True),
    FileField("audio", MediaKind.AUDIO),
    FileField("srt", MediaKind.SUBTITLES),
]


@router.post(
    "",
    status_code=202,
    dependencies=[JobRateLimit],
    openapi_extra=multipart_body(
        {
            "video": ("The source video.", True),
            "audio": ("A voiceover to lay under the video.", False),
            "srt": ("Subtitles (SRT).", False),
        },
        JobFields,
    ),
)
async def create_job(
    request: Request, runtime: RuntimeDep, caller: CallerDep, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    async with receive_upload(request, runtime.store, JOB_FILES, limit_bytes=runtime.settings.max_upload_bytes) as form:
        fields = checked_fields(JobFields, form.fields)
        subtitles = subtitle_settings_from_json(fields.subtitle_settings)
        files = form.files
        rpc_request = render_pb2.ProcessVideoRequest(
            request_id=idempotency_key or "",
            video_key=files["video"].key,
            audio_key=files["audio"].key if "audio" in files else "",
            srt_key=files["srt"].key if "srt" in files else "",
            output_name=fields.output_name,
            target_duration=fields.target_duration,
            variant_count=fields.variant_count,
            generate_audio=fields.generate_audio,
            mute_source_voice=fields.mute_source_voice,
            tts_text=fields.tts_text,
        )
        if subtitles is not None:
            rpc_request.subtitle_settings.CopyFrom(subtitles.to_proto())
        reply = await runtime.render.ProcessVideo(rpc_request, **runtime.call(caller))
    return presenters.job(reply.job)  # {job_id, status: "pending", created_at, progress, ...}


@router.get("")
async def list_jobs(runtime: RuntimeDep, caller: CallerDep) -> list[dict[str, Any]]:
    reply = await runtime.render.ListJobs(render_pb2.ListJobsRequest(page_size=500), **runtime.call(caller))
    return [presenters.job(j) for j in reply.jobs]


@router.get("/{job_id}")
async def get_job(job_id: str, runtime: RuntimeDep, caller: CallerDep) -> dict[str, Any]:
    reply = await runtime.render.GetJob(render_pb2.GetJobRequest(job_id=job_id), **runtime.call(caller))
    return presenters.job(reply.job)


@router.delete("/{job_id}", status_code=204)
async def delete_job(job_id: str, runtime: RuntimeDep, caller: CallerDep) -> Response:
    await runtime.render.DeleteJob(render_pb2.DeleteJobRequest(job_id=job_id), **runtime.call(caller))
    return Response(status_code=204)


async def job_output(
    runtime: RuntimeDep, caller: CallerDep, job_id: str, variant: int, what: str
) -> tuple[render_pb2.Job, str]:
    reply = await runtime.render.GetJob(render_pb2.GetJobRequest(job_id=job_id), **runtime.call(caller))
    job = reply.job
    if job.status != render_pb2.JOB_STATUS_SUCCEEDED:
        raise ApiError(
            404,
            f"The job's {what} is not ready: the job is {presenters.JOB_STATUS[job.status]}.",
            reason="OUTPUT_NOT_READY",
        )
    if variant >= len(job.output_keys):
        raise ApiError(
            404,
            f"The job has {len(job.output_keys)} output(s); there is no variant {variant}.",
            reason="OUTPUT_NOT_FOUND",
        )
    return job, job.output_keys[variant]


@router.get(
    "/{job_id}/download",
    response_class=FileResponse,
    responses={200: {"description": "The output file.", "content": {"video/mp4": {}}}, 206: {"description": "Range"}},
)
async def download_job_output(
    job_id: str,
    runtime: RuntimeDep,
    caller: CallerDep,
    variant: Annotated[int, Query(ge=0, le=9, description="Which output, for multi-variant jobs.")] = 0,
) -> FileResponse:
    job, key = await job_output(runtime, caller, job_id, variant, "video")
    return await media_file(runtime.store, key, filename=f"job-{job.id}-{variant + 1}", what="job output")
