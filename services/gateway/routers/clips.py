"""/library/clips: read a clip, edit its content, render it, download its files."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from starlette.responses import FileResponse

from editai.render.v1 import render_pb2
from services.gateway import presenters
from services.gateway.deps import CallerDep, IdempotencyKey, JobRateLimit, RuntimeDep
from services.gateway.downloads import media_file
from services.gateway.errors import ERROR_RESPONSES
from services.gateway.forms import ClipContentBody, RenderForm
from services.gateway.subtitles import SubtitleSettings, subtitle_settings_from_json

router = APIRouter(prefix="/library/clips", tags=["library: clips"], responses=ERROR_RESPONSES)

_FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The file.", "content": {"application/octet-stream": {}}},
    206: {"description": "Part of the file (Range)."},
    416: {"description": "Range not satisfiable."},
}


@router.get("/{clip_id}")
async def get_clip(clip_id: str, runtime: RuntimeDep, caller: CallerDep) -> dict[str, Any]:
    reply = await runtime.render.GetClip(render_pb2.GetClipRequest(clip_id=clip_id), **runtime.call(caller))
    return presenters.clip(reply.clip)


@router.put("/{clip_id}/content")
async def update_clip_content(
    clip_id: str, body: ClipContentBody, runtime: RuntimeDep, caller: CallerDep
) -> dict[str, Any]:
    request = render_pb2.UpdateClipContentRequest(clip_id=clip_id)
    if body.tts_text is not None:
        request.tts_text = body.tts_text
    if body.srt_content is not None:
        request.srt_content = body.srt_content
    if body.subtitle_settings is not None:
        request.subtitle_settings.CopyFrom(body.subtitle_settings.to_proto())
    reply = await runtime.render.UpdateClipContent(request, **runtime.call(caller))
    return presenters.clip_content(reply.content)


def _render_subtitles(form: RenderForm) -> SubtitleSettings | None:
    """The JSON settings, with the form's own styling fields taking precedence."""
    settings = subtitle_settings_from_json(form.subtitle_settings)
    overrides = {
        name: getattr(form, name)
        for name in ("shadow_depth", "enable_glow", "glow_blur", "adaptive_sizing")
        if getattr(form, name) is not None
    }
    if not overrides:
        return settings
    return (settings or SubtitleSettings()).model_copy(update=overrides)


@router.post("/{clip_id}/render", status_code=202, dependencies=[JobRateLimit])
async def render_final_clip(
    clip_id: str,
    form: Annotated[RenderForm, Form()],
    runtime: RuntimeDep,
    caller: CallerDep,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Render the clip with subtitles, voiceover and filters for a platform preset (in the background)."""
    subtitles = _render_subtitles(form)
    request = render_pb2.RenderFinalClipRequest(
        request_id=idempotency_key or "",
        clip_id=clip_id,
        preset_name=form.preset_name,
        filters=render_pb2.RenderFilters(
            enable_denoise=form.enable_denoise,
            denoise_strength=form.denoise_strength,
            enable_sharpen=form.enable_sharpen,
            sharpen_amount=form.sharpen_amount,
            enable_color=form.enable_color,
            brightness=form.brightness,
            contrast=form.contrast,
            saturation=form.saturation,
        ),
        elevenlabs_model=form.elevenlabs_model,
        voice_id=form.voice_id,
    )
    if subtitles is not None:
        request.subtitle_settings.CopyFrom(subtitles.to_proto())
    reply = await runtime.render.RenderFinalClip(request, **runtime.call(caller))
    return {"status": "processing", "clip_id": clip_id, "preset": form.preset_name, "job_id": reply.job.id}


async def _clip(clip_id: str, runtime: RuntimeDep, caller: CallerDep) -> render_pb2.Clip:
    reply = await runtime.render.GetClip(render_pb2.GetClipRequest(clip_id=clip_id), **runtime.call(caller))
    return reply.clip


@router.get("/{clip_id}/download", response_class=FileResponse, responses=_FILE_RESPONSES)
async def download_clip(clip_id: str, runtime: RuntimeDep, caller: CallerDep) -> FileResponse:
    """The final video when rendered, else the raw clip. Supports Range."""
    clip = await _clip(clip_id, runtime, caller)
    key = clip.final_video_key or clip.raw_video_key
    return await media_file(runtime.store, key, filename=f"clip-{clip.variant_index + 1}", what="clip video")


@router.get("/{clip_id}/srt", response_class=FileResponse, responses=_FILE_RESPONSES)
async def download_clip_srt(clip_id: str, runtime: RuntimeDep, caller: CallerDep) -> FileResponse:
    clip = await _clip(clip_id, runtime, caller)
    return await media_file(
        runtime.store,
        clip.srt_key,
        filename=f"clip-{clip.variant_index + 1}.srt",
        what="subtitle file",
        media_type="application/x-subrip",
    )


@router.get("/{clip_id}/audio", response_class=FileResponse, responses=_FILE_RESPONSES)
async def download_clip_audio(clip_id: str, runtime: RuntimeDep, caller: CallerDep) -> FileResponse:
    clip = await _clip(clip_id, runtime, caller)
    key = clip.audio_key or clip.content.tts_audio_key
    return await media_file(runtime.store, key, filename=f"clip-{clip.variant_index + 1}-voice", what="voiceover")
