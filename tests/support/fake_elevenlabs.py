"""A stand-in for ElevenLabs: a real HTTP server on loopback (Starlette + uvicorn in a
thread, ephemeral port) speaking the three endpoints the tts service uses.

    fake = FakeElevenLabs(latency=0.3, keys={"good-key"}).start()
    fake.script = [429, 429]          # the next two TTS calls fail, then 200s
    fake.fail_with = 503              # every TTS call fails until reset to None
    fake.retry_after = "1"            # Retry-After on 429/5xx answers
    fake.quota_keys.add("poor-key")   # 402 quota_exceeded for that key
    ... fake.base_url, fake.tts_requests(), fake.requests ...
    fake.stop()

It checks what the real API checks and the service must get right: the `xi-api-key`
header, the JSON body (text, model_id, voice_settings), the output_format query and
the voice id. Audio is real MP3 (a sine tone made once with ffmpeg); the alignment
spreads the text's characters over it.
"""

from __future__ import annotations

import asyncio
import base64
import subprocess
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

AUDIO_SECONDS = 1.0
VOICES = {"voice-rachel": "Rachel", "21m00Tcm4TlvDq8ikWAM": "Rachel (default)", "voice-adam": "Adam"}
VOICE_SETTING_KEYS = {"stability", "similarity_boost", "style", "use_speaker_boost", "speed"}


@cache
def sine_mp3(seconds: float = AUDIO_SECONDS) -> bytes:
    """Real MP3 audio (44.1 kHz, 128 kb/s), made once per process."""
    from editai_common.ffmpeg import ffmpeg_executable

    return subprocess.run(
        [
            ffmpeg_executable(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:sample_rate=44100:duration={seconds}",
            "-c:a",
            "libmp3lame",
            "-b:a",
            "128k",
            "-f",
            "mp3",
            "pipe:1",
        ],
        check=True,
        capture_output=True,
    ).stdout


def alignment_for(text: str, seconds: float = AUDIO_SECONDS) -> dict[str, list[Any]]:
    step = seconds / max(1, len(text))
    return {
        "characters": list(text),
        "character_start_times_seconds": [round(i * step, 3) for i in range(len(text))],
        "character_end_times_seconds": [round((i + 1) * step, 3) for i in range(len(text))],
    }


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    api_key: str | None
    body: dict[str, Any] | None
    at: float


@dataclass
class FakeElevenLabs:
    latency: float = 0.0
    keys: set[str] = field(default_factory=lambda: {"test-key"})
    quota_keys: set[str] = field(default_factory=set)
    script: list[int] = field(default_factory=list)
    fail_with: int | None = None
    retry_after: str | None = None
    requests: list[RecordedRequest] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeElevenLabs:
        sine_mp3()  # before serving: the first call must not pay for ffmpeg
        app = Starlette(
            routes=[
                Route("/v1/text-to-speech/{voice_id}/with-timestamps", self._with_timestamps, methods=["POST"]),
                Route("/v1/text-to-speech/{voice_id}", self._plain, methods=["POST"]),
                Route("/v1/voices", self._voices, methods=["GET"]),
            ]
        )
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off", backlog=512)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="fake-elevenlabs", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fake ElevenLabs did not start")
            time.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> FakeElevenLabs:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # --- what the tests read --------------------------------------------------------

    def tts_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if "/text-to-speech/" in r.path]

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.script.clear()
        self.fail_with = None
        self.retry_after = None

    # --- the API --------------------------------------------------------------------

    async def _admit(self, request: Request, body: dict[str, Any] | None) -> Response | None:
        """Records the request, waits the latency, and answers any scripted or auth failure."""
        key = request.headers.get("xi-api-key")
        with self._lock:
            self.requests.append(RecordedRequest(request.method, request.url.path, key, body, time.monotonic()))
            scripted = self.script.pop(0) if self.script and key in self.keys else None
        if self.latency:
            await asyncio.sleep(self.latency)
        if key in self.quota_keys:
            return _error(402, "quota_exceeded", "This request exceeds your quota.")
        if key not in self.keys:
            return _error(401, "invalid_api_key", "Invalid API key.")
        status = scripted or self.fail_with
        if status is not None and status != 200:
            headers = {"retry-after": self.retry_after} if self.retry_after and status in (429, 503) else {}
            return _error(status, "scripted_failure", f"scripted {status}", headers)
        return None

    async def _tts_body(self, request: Request) -> tuple[dict[str, Any] | None, Response | None]:
        try:
            body = await request.json()
        except ValueError:
            return None, _validation_error("body", "not JSON")
        if not isinstance(body, dict):
            return None, _validation_error("body", "not an object")
        return body, None

    def _check_tts(self, request: Request, body: dict[str, Any]) -> Response | None:
        if request.path_params["voice_id"] not in VOICES:
            return _error(404, "voice_not_found", "A voice with that id was not found.")
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            return _validation_error("text", "field required")
        if not isinstance(body.get("model_id"), str):
            return _validation_error("model_id", "must be a string")
        settings = body.get("voice_settings")
        if not isinstance(settings, dict) or not set(settings) <= VOICE_SETTING_KEYS:
            return _validation_error("voice_settings", "unexpected keys")
        if not 0.7 <= float(settings.get("speed", 1.0)) <= 1.2:
            return _validation_error("voice_settings.speed", "must be between 0.7 and 1.2")
        return None

    async def _with_timestamps(self, request: Request) -> Response:
        body, bad = await self._tts_body(request)
        failure = await self._admit(request, body)
        if failure is not None:
            return failure
        if bad is not None or body is None:
            return bad or _validation_error("body", "missing")
        if request.query_params.get("output_format") != "mp3_44100_128":
            return _validation_error("output_format", "expected mp3_44100_128")
        if (rejected := self._check_tts(request, body)) is not None:
            return rejected
        alignment = alignment_for(body["text"])
        return JSONResponse(
            {
                "audio_base64": base64.b64encode(sine_mp3()).decode(),
                "alignment": alignment,
                "normalized_alignment": alignment,
            }
        )

    async def _plain(self, request: Request) -> Response:
        body, bad = await self._tts_body(request)
        failure = await self._admit(request, body)
        if failure is not None:
            return failure
        if bad is not None or body is None:
            return bad or _validation_error("body", "missing")
        if (rejected := self._check_tts(request, body)) is not None:
            return rejected
        return Response(sine_mp3(), media_type="audio/mpeg")

    async def _voices(self, request: Request) -> Response:
        failure = await self._admit(request, None)
        if failure is not None:
            return failure
        return JSONResponse(
            {
                "voices": [
                    {
                        "voice_id": voice_id,
                        "name": name,
                        "category": "premade",
                        "labels": {"accent": "american", "language": "en"},
                        "preview_url": f"https://example.invalid/{voice_id}.mp3",
                    }
                    for voice_id, name in VOICES.items()
                ]
            }
        )


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"detail": {"status": code, "message": message}}, status_code=status, headers=headers)


def _validation_error(where: str, message: str) -> Response:
    return JSONResponse(
        {"detail": [{"loc": ["body", *where.split(".")], "msg": message, "type": "value_error"}]}, status_code=422
    )
