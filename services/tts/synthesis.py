"""The Synthesize use case: provider, cache, single-flight, trimming, media store.

    request ─► cache digest ─► cache hit? ─► reply (cache_hit)
                                  │ miss
                                  ▼
              in-process single-flight (one task per digest, callers share it)
                                  ▼
              cross-replica fill lock in Redis (others wait for the cache entry)
                                  ▼
              provider.synthesize ─► [silencedetect + cut + remap timings] ─► media store ─► cache.put

A caller that goes away does not cancel work others wait for; the shared task is
cancelled only when its last waiter has left.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from editai_common.errors import DeadlineExceeded
from editai_common.media_store import MediaStore
from editai_common.metrics import TTS_CACHE_HITS, TTS_CACHE_MISSES
from services.tts import audio
from services.tts.errors import ProviderNotConfigured
from services.tts.records import SpeechRecord, audio_key
from services.tts.speech import ProviderName, SpeechProvider, SpeechRequest, VoiceInfo
from services.tts.timings import monotonic, rounded
from services.tts.trimming import TrimOptions
from services.tts.validation import SynthesisRequest

log = logging.getLogger("editai.tts.synthesis")

# Bumped when the stored output of the same inputs changes (format, timing rules).
CACHE_VERSION = 1


class SpeechCache(Protocol):
    async def get(self, digest: str) -> SpeechRecord | None: ...

    async def put(self, digest: str, record: SpeechRecord) -> int: ...

    async def try_lock(self, digest: str, ttl_seconds: float) -> str | None: ...

    async def is_locked(self, digest: str) -> bool: ...

    async def unlock(self, digest: str, token: str) -> None: ...


@dataclass(frozen=True)
class Synthesis:
    record: SpeechRecord
    cache_hit: bool


def cache_digest(provider: ProviderName, speech: SpeechRequest, trimming: TrimOptions | None, noise_db: float) -> str:
    """sha256 over everything that changes the audio or its timings."""
    payload = {
        "v": CACHE_VERSION,
        "provider": provider.value,
        "voice": speech.voice_id,
        "model": speech.model_id,
        "settings": speech.voice_settings.as_json(),
        "text": speech.text,
        "trim": None
        if trimming is None
        else {"min_silence": round(trimming.min_silence, 4), "padding": round(trimming.padding, 4), "noise": noise_db},
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class _Flight:
    """One in-progress synthesis and how many callers are waiting on it."""

    def __init__(self, task: asyncio.Task[Synthesis]) -> None:
        self.task = task
        self.waiters = 0


class Synthesizer:
    def __init__(
        self,
        providers: Mapping[ProviderName, SpeechProvider],
        default_provider: ProviderName,
        cache: SpeechCache,
        store: MediaStore,
        *,
        noise_db: float = -40.0,
        replica_poll_seconds: float = 0.05,
    ) -> None:
        self._providers = dict(providers)
        self._default = default_provider
        self._cache = cache
        self._store = store
        self._noise_db = noise_db
        self._poll = replica_poll_seconds
        self._flights: dict[str, _Flight] = {}

    @property
    def in_flight(self) -> int:
        return len(self._flights)

    def provider(self, name: ProviderName | None) -> SpeechProvider:
        chosen = name or self._default
        found = self._providers.get(chosen)
        if found is None:
            raise ProviderNotConfigured(
                "ElevenLabs is not configured on this server (EDITAI_ELEVENLABS_API_KEYS is empty); "
                "use the local provider."
            )
        return found

    async def list_voices(self, name: ProviderName | None, *, deadline: float) -> list[VoiceInfo]:
        return await self.provider(name).list_voices(deadline=deadline)

    async def synthesize(self, request: SynthesisRequest, *, deadline: float) -> Synthesis:
        provider = self.provider(request.provider)
        # A model only means something to providers that have several (the local engine has one).
        model = request.model_id if request.model_id and provider.name is ProviderName.ELEVENLABS else ""
        speech = SpeechRequest(
            text=request.text,
            voice_id=request.voice_id or provider.default_voice_id,
            model_id=model or provider.default_model_id,
            voice_settings=request.voice_settings,
        )
        digest = cache_digest(provider.name, speech, request.trimming, self._noise_db)
        cached = await self._cache.get(digest)
        if cached is not None:
            TTS_CACHE_HITS.inc()
            return Synthesis(cached, cache_hit=True)
        TTS_CACHE_MISSES.inc()
        return await self._single_flight(
            digest, lambda: self._fill(provider, speech, request.trimming, digest, deadline)
        )

    async def _single_flight(self, digest: str, start: Callable[[], Awaitable[Synthesis]]) -> Synthesis:
        flight = self._flights.get(digest)
        if flight is None:
            flight = _Flight(asyncio.ensure_future(start()))
            self._flights[digest] = flight
            flight.task.add_done_callback(functools.partial(self._land, digest, flight))
        flight.waiters += 1
        try:
            return await asyncio.shield(flight.task)
        finally:
            flight.waiters -= 1
            if flight.waiters == 0 and not flight.task.done():
                flight.task.cancel()

    def _land(self, digest: str, flight: _Flight, _: object) -> None:
        if self._flights.get(digest) is flight:
            del self._flights[digest]

    async def _fill(
        self,
        provider: SpeechProvider,
        speech: SpeechRequest,
        trimming: TrimOptions | None,
        digest: str,
        deadline: float,
    ) -> Synthesis:
        """Synthesize once across replicas: hold the fill lock, or wait for whoever holds it."""
        while True:
            token = await self._cache.try_lock(digest, ttl_seconds=max(1.0, deadline - time.monotonic()) + 5.0)
            if token is not None:
                break
            record = await self._wait_for_other_replica(digest, deadline)
            if record is not None:
                return Synthesis(record, cache_hit=True)
        try:
            # Another replica may have finished between our miss and our lock.
            record = await self._cache.get(digest)
            if record is not None:
                return Synthesis(record, cache_hit=True)
            record = await self._produce(provider, speech, trimming, digest, deadline)
            await self._cache.put(digest, record)
            return Synthesis(record, cache_hit=False)
        finally:
            await asyncio.shield(self._cache.unlock(digest, token))

    async def _wait_for_other_replica(self, digest: str, deadline: float) -> SpeechRecord | None:
        """The cache entry once the lock holder wrote it; None if it gave up (then we try)."""
        while time.monotonic() < deadline:
            await asyncio.sleep(self._poll)
            record = await self._cache.get(digest)
            if record is not None:
                return record
            if not await self._cache.is_locked(digest):
                return None
        raise DeadlineExceeded("Another replica is still synthesizing the same text; the deadline passed.")

    async def _produce(
        self,
        provider: SpeechProvider,
        speech: SpeechRequest,
        trimming: TrimOptions | None,
        digest: str,
        deadline: float,
    ) -> SpeechRecord:
        produced = await provider.synthesize(speech, deadline=deadline)
        key = audio_key(digest, produced.extension)
        stats = None
        if trimming is None:
            async with self._store.writer(key) as writer:
                await writer.write(produced.audio)
            duration = produced.duration_seconds or await audio.measure_duration(self._store.local_path(key))
            characters = monotonic(produced.characters, duration)
        else:
            with tempfile.TemporaryDirectory(prefix="tts-") as folder:
                raw = Path(folder) / f"raw.{produced.extension}"
                await asyncio.to_thread(raw.write_bytes, produced.audio)
                duration = produced.duration_seconds or await audio.measure_duration(raw)
                characters = monotonic(produced.characters, duration)
                plan = await audio.plan_for(raw, duration, trimming, noise_db=self._noise_db, deadline=deadline)
                stats = plan.stats()
                if plan.removes_anything:
                    async with self._store.temp_path(key) as target:
                        await audio.cut_regions(raw, target, plan, extension=produced.extension, deadline=deadline)
                    characters = monotonic(plan.remap_characters(characters), plan.new_duration)
                    duration = plan.new_duration
                else:
                    async with self._store.writer(key) as writer:
                        await writer.write(produced.audio)
        log.info(
            "synthesized",
            extra={
                "provider": provider.name.value,
                "characters": len(speech.text),
                "duration_seconds": round(duration, 3),
                "removed_seconds": round(stats.removed_seconds, 3) if stats else 0.0,
            },
        )
        return SpeechRecord(
            audio_key=key,
            content_type=produced.content_type,
            duration_seconds=round(duration, 4),  # same precision as the timings: none ends after it
            sample_rate=produced.sample_rate,
            characters=rounded(characters),
            provider=provider.name,
            model_id=speech.model_id,
            voice_id=produced.voice_id or speech.voice_id,
            size_bytes=await self._store.size(key),
            trim_stats=stats,
        )
