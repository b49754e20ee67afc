"""/tts: speech synthesis jobs, voices, and the synthesized audio."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query
from starlette.responses import FileResponse

from editai.render.v1 import render_pb2
from editai.tts.v1 import tts_pb2
from services.gateway import presenters
from services.gateway.deps import CallerDep, IdempotencyKey, JobRateLimit, RuntimeDep
from services.gateway.downloads import media_file
from services.gateway.errors import ERROR_RESPONSES
from services.gateway.forms import TtsForm
from services.gateway.routers.jobs import job_output

router = APIRouter(prefix="/tts", tags=["tts"], responses=ERROR_RESPONSES)

PROVIDERS = {
    "": tts_pb2.PROVIDER_UNSPECIFIED,
    "elevenlabs": tts_pb2.PROVIDER_ELEVENLABS,
    "local": tts_pb2.PROVIDER_LOCAL,
}


@router.post("/generate", status_code=202, dependencies=[JobRateLimit])
async def generate_speech(
    form: Annotated[TtsForm, Form()], runtime: RuntimeDep, caller: CallerDep, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    """Synthesize `text` in the background; download the audio from /tts/{job_id}/download."""
    reply = await runtime.render.SynthesizeSpeech(
        render_pb2.SynthesizeSpeechRequest(
            request_id=idempotency_key or "",
            text=form.text,
            voice_id=form.voice_id,
            provider=form.provider,
            remove_silence=form.remove_silence,
            min_silence_duration=form.min_silence_duration,
            silence_padding=form.silence_padding,
            model_id=form.model_id,
        ),
        **runtime.call(caller),
    )
    return presenters.job(reply.job)


@router.get("/voices")
async def list_voices(
    runtime: RuntimeDep,
    caller: CallerDep,
    provider: Annotated[str, Query(pattern="^(|elevenlabs|local)$")] = "",
) -> list[dict[str, Any]]:
    reply = await runtime.tts.ListVoices(
        tts_pb2.ListVoicesRequest(provider=PROVIDERS[provider]), **runtime.call(caller)
    )
    return [presenters.voice(v) for v in reply.voices]


@router.get(
    "/{job_id}/download",
    response_class=FileResponse,
    responses={200: {"description": "The audio.", "content": {"audio/mpeg": {}}}, 206: {"description": "Range"}},
)
async def download_speech(job_id: str, runtime: RuntimeDep, caller: CallerDep) -> FileResponse:
    job, key = await job_output(runtime, caller, job_id, 0, "audio")
    return await media_file(runtime.store, key, filename=f"speech-{job.id}", what="audio")
