"""ElevenLabs over one shared `httpx.AsyncClient`, with retries and key failover.

    POST /v1/text-to-speech/{voice_id}/with-timestamps?output_format=mp3_44100_128
         {text, model_id, voice_settings} -> {audio_base64, alignment{characters,
         character_start_times_seconds, character_end_times_seconds}, normalized_alignment}
    GET  /v1/voices -> {voices: [{voice_id, name, category, labels, preview_url}]}

Retries (tenacity): connection errors, timeouts, 429 and 5xx, with exponential
backoff and jitter, or exactly the `Retry-After` the server asked for; at most
`max_attempts` and never past the call's deadline. A key answering 401 or 402 is set
aside for a cool-down and the next key is tried at once. Keys appear only in the
`xi-api-key` header: logs and errors name a key by its position ("key 2 of 3").
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import email.utils
import functools
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential_jitter

from editai_common.errors import ServiceError
from editai_common.metrics import TTS_UPSTREAM_REQUESTS, TTS_UPSTREAM_SECONDS
from services.tts.config import ElevenLabsSettings
from services.tts.errors import (
    UpstreamQuotaExceeded,
    UpstreamRejectedInput,
    UpstreamUnauthorized,
    UpstreamUnavailable,
    VoiceNotFound,
)
from services.tts.providers.http_pool import ShardedTransport
from services.tts.speech import ProviderName, SpeechAudio, SpeechRequest, VoiceInfo
from services.tts.timings import CharacterTiming

log = logging.getLogger("editai.tts.elevenlabs")

OUTPUT_FORMAT = "mp3_44100_128"
SAMPLE_RATE = 44_100
VOICES_TTL_SECONDS = 300.0
# Voice ids go into the URL path: anything else could address another endpoint.
_VOICE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Decoding a multi-megabyte JSON body takes long enough to stall other calls.
_DECODE_IN_THREAD_BYTES = 512 * 1024


def build_http_client(settings: ElevenLabsSettings) -> httpx.AsyncClient:
    """The one client of the process: pooled keep-alive HTTP/1.1 connections, explicit timeouts."""
    return httpx.AsyncClient(
        base_url=settings.base_url,
        timeout=httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout),
        transport=ShardedTransport(max_connections=settings.max_connections, keepalive_expiry=30.0),
        headers={"accept": "application/json"},
        follow_redirects=False,
    )


class _Transient(Exception):
    """A failure worth retrying (connect error, timeout, 429, 5xx)."""

    def __init__(self, what: str, retry_after: float | None = None) -> None:
        super().__init__(what)
        self.what = what
        self.retry_after = retry_after


class _KeyRejected(Exception):
    """The key itself was refused (401 unauthorized, 402 / quota exhausted)."""

    def __init__(self, error: ServiceError) -> None:
        super().__init__(error.message)
        self.error = error


class KeyRing:
    """The configured keys; a refused key waits out a cool-down behind the others."""

    def __init__(self, keys: tuple[str, ...], cooldown_seconds: float, clock: Callable[[], float] = time.monotonic):
        self._keys = keys
        self._cooldown = cooldown_seconds
        self._clock = clock
        self._aside_until: dict[int, float] = {}

    def __len__(self) -> int:
        return len(self._keys)

    def candidates(self) -> list[tuple[int, str]]:
        """(index, key) to try in order: usable keys first, then set-aside ones soonest-back first."""
        now = self._clock()
        usable = [(i, k) for i, k in enumerate(self._keys) if self._aside_until.get(i, 0.0) <= now]
        aside = sorted(
            ((i, k) for i, k in enumerate(self._keys) if self._aside_until.get(i, 0.0) > now),
            key=lambda item: self._aside_until[item[0]],
        )
        return usable + aside

    def set_aside(self, index: int) -> None:
        self._aside_until[index] = self._clock() + self._cooldown

    def restore(self, index: int) -> None:
        self._aside_until.pop(index, None)


def _retry_after_seconds(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _detail_status(response: httpx.Response) -> tuple[str, str]:
    """(status, message) from ElevenLabs' `{"detail": {"status", "message"}}` error body."""
    try:
        body = response.json()
    except ValueError:
        return "", ""
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, dict):
        return str(detail.get("status", "")), str(detail.get("message", ""))[:300]
    if isinstance(detail, str):
        return "", detail[:300]
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        first = detail[0]
        where = ".".join(str(p) for p in first.get("loc", []) if p != "body")
        return "", f"{where}: {first.get('msg', '')}"[:300]
    return "", ""


@dataclass(frozen=True)
class _Call:
    method: str
    path: str
    params: dict[str, str] | None = None
    json: dict[str, Any] | None = None
    voice_id: str = ""


class ElevenLabsProvider:
    name = ProviderName.ELEVENLABS

    def __init__(self, client: httpx.AsyncClient, settings: ElevenLabsSettings) -> None:
        self._client = client
        self._settings = settings
        self._keys = KeyRing(settings.api_keys, settings.key_cooldown_seconds)
        self.default_voice_id = settings.default_voice_id
        self.default_model_id = settings.model_id
        self._voices: tuple[float, list[VoiceInfo]] | None = None
        self._backoff = wait_exponential_jitter(multiplier=0.2, max=4.0, jitter=0.2)

    async def close(self) -> None:
        await self._client.aclose()

    async def synthesize(self, request: SpeechRequest, *, deadline: float) -> SpeechAudio:
        if not _VOICE_ID.fullmatch(request.voice_id):
            raise VoiceNotFound(self.name.value, request.voice_id)
        call = _Call(
            "POST",
            f"/v1/text-to-speech/{request.voice_id}/with-timestamps",
            params={"output_format": OUTPUT_FORMAT},
            json={
                "text": request.text,
                "model_id": request.model_id,
                "voice_settings": request.voice_settings.as_json(),
            },
            voice_id=request.voice_id,
        )
        response = await self._call(call, deadline)
        if len(response.content) > _DECODE_IN_THREAD_BYTES:
            audio, characters = await asyncio.to_thread(_decode_timestamps, response.content)
        else:
            audio, characters = _decode_timestamps(response.content)
        return SpeechAudio(
            audio=audio,
            extension="mp3",
            content_type="audio/mpeg",
            sample_rate=SAMPLE_RATE,
            characters=characters,
        )

    async def list_voices(self, *, deadline: float) -> list[VoiceInfo]:
        # The voice list changes rarely; every ListVoices going upstream would spend rate limit.
        if self._voices is not None and time.monotonic() - self._voices[0] < VOICES_TTL_SECONDS:
            return list(self._voices[1])
        voices = await self._fetch_voices(deadline)
        self._voices = (time.monotonic(), voices)
        return list(voices)

    async def _fetch_voices(self, deadline: float) -> list[VoiceInfo]:
        response = await self._call(_Call("GET", "/v1/voices"), deadline)
        voices: list[VoiceInfo] = []
        for item in response.json().get("voices", []):
            labels = {str(k): str(v) for k, v in (item.get("labels") or {}).items() if v is not None}
            voices.append(
                VoiceInfo(
                    voice_id=str(item.get("voice_id", "")),
                    name=str(item.get("name", "")),
                    provider=self.name,
                    language=labels.get("language", ""),
                    category=str(item.get("category") or ""),
                    preview_url=str(item.get("preview_url") or ""),
                    labels=labels,
                )
            )
        return voices

    # --- one logical call: keys in turn, each with retries -------------------------------

    async def _call(self, call: _Call, deadline: float) -> httpx.Response:
        deadline = min(deadline, time.monotonic() + self._settings.deadline_seconds)
        rejected: ServiceError | None = None
        for index, key in self._keys.candidates():
            try:
                response = await self._with_retries(functools.partial(self._attempt, call, key, deadline), deadline)
            except _KeyRejected as refused:
                self._keys.set_aside(index)
                log.warning(
                    "elevenlabs key set aside",
                    extra={"key": f"{index + 1} of {len(self._keys)}", "reason": refused.error.reason},
                )
                # Quota beats unauthorized in the final answer: it tells the operator more.
                if rejected is None or isinstance(refused.error, UpstreamQuotaExceeded):
                    rejected = refused.error
                continue
            self._keys.restore(index)
            return response
        assert rejected is not None, "KeyRing.candidates() is never empty when ElevenLabs is enabled"
        raise rejected

    async def _with_retries(self, attempt: Callable[[], Awaitable[httpx.Response]], deadline: float) -> httpx.Response:
        max_attempts = self._settings.max_attempts

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome is not None else None
            if isinstance(error, _Transient) and error.retry_after is not None:
                return error.retry_after
            return float(self._backoff(state))

        def stop(state: RetryCallState) -> bool:
            return state.attempt_number >= max_attempts or time.monotonic() + state.upcoming_sleep >= deadline

        def log_retry(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome is not None else None
            log.info(
                "elevenlabs retry",
                extra={
                    "attempt": state.attempt_number,
                    "failure": getattr(error, "what", type(error).__name__),
                    "sleep_seconds": round(state.upcoming_sleep, 3),
                },
            )

        retrying = AsyncRetrying(
            retry=retry_if_exception_type(_Transient),
            wait=wait,
            stop=stop,
            before_sleep=log_retry,
            reraise=True,
        )
        try:
            return await retrying(attempt)
        except _Transient as last:
            raise UpstreamUnavailable(
                f"ElevenLabs did not answer successfully ({last.what}); retries are used up.",
                retry_after_seconds=last.retry_after,
            ) from None

    async def _attempt(self, call: _Call, key: str, deadline: float) -> httpx.Response:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _Transient("deadline reached before the call")
        timeout = httpx.Timeout(
            min(self._settings.read_timeout, remaining), connect=min(self._settings.connect_timeout, remaining)
        )
        started = time.monotonic()
        try:
            async with asyncio.timeout(remaining):
                response = await self._client.request(
                    call.method,
                    call.path,
                    params=call.params,
                    json=call.json,
                    headers={"xi-api-key": key},
                    timeout=timeout,
                )
        except (httpx.TimeoutException, TimeoutError):
            TTS_UPSTREAM_REQUESTS.labels(status="timeout").inc()
            raise _Transient("timeout") from None
        except httpx.TransportError as error:
            TTS_UPSTREAM_REQUESTS.labels(status="connect").inc()
            raise _Transient(f"connection error: {type(error).__name__}") from None
        TTS_UPSTREAM_SECONDS.observe(time.monotonic() - started)
        TTS_UPSTREAM_REQUESTS.labels(status=str(response.status_code)).inc()
        return _classify(response, call)


def _classify(response: httpx.Response, call: _Call) -> httpx.Response:
    """Returns a successful response or raises what the status means for the caller."""
    status = response.status_code
    if status < 300:
        return response
    detail_status, detail_message = _detail_status(response)
    if status == 402 or (status in (401, 429) and detail_status == "quota_exceeded"):
        raise _KeyRejected(
            UpstreamQuotaExceeded(
                "ElevenLabs quota or credits are used up for every configured key.",
                retry_after_seconds=_retry_after_seconds(response),
            )
        )
    if status == 401:
        raise _KeyRejected(UpstreamUnauthorized("ElevenLabs refused every configured API key (401)."))
    if status == 429 or status >= 500:
        return _raise_transient(response)
    if status == 404 or detail_status == "voice_not_found":
        raise VoiceNotFound(ProviderName.ELEVENLABS.value, call.voice_id or "?")
    if status in (400, 422):
        raise UpstreamRejectedInput(
            f"ElevenLabs rejected the request: {detail_message or f'HTTP {status}'}",
            metadata={"upstream_status": str(status)},
        )
    raise UpstreamUnavailable(f"ElevenLabs answered HTTP {status}.", metadata={"upstream_status": str(status)})


def _raise_transient(response: httpx.Response) -> httpx.Response:
    raise _Transient(f"HTTP {response.status_code}", _retry_after_seconds(response))


def _decode_timestamps(body: bytes) -> tuple[bytes, tuple[CharacterTiming, ...]]:
    import json

    try:
        payload = json.loads(body)
        audio = base64.b64decode(payload["audio_base64"], validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise UpstreamUnavailable("ElevenLabs sent a reply that is not the expected JSON.") from None
    alignment = payload.get("alignment") or payload.get("normalized_alignment") or {}
    chars = alignment.get("characters") or []
    starts = alignment.get("character_start_times_seconds") or []
    ends = alignment.get("character_end_times_seconds") or []
    characters = tuple(
        CharacterTiming(str(c), float(s), float(e)) for c, s, e in zip(chars, starts, ends, strict=False)
    )
    return audio, characters
