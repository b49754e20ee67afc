"""The synthesis cache on real Redis and a real media store: hits, LRU eviction at the
size bound, single-flight within a process and across replicas."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from editai_common.errors import Unavailable
from editai_common.media_store import LocalMediaStore
from editai_common.redis_client import KeySpace, connect_redis
from services.tts.cache import RedisSpeechCache
from services.tts.providers.local_espeak import wav_bytes
from services.tts.records import SpeechRecord, sidecar_key
from services.tts.speech import ProviderName, SpeechAudio, SpeechRequest, VoiceInfo
from services.tts.synthesis import Synthesizer
from services.tts.timings import CharacterTiming
from services.tts.validation import synthesis_request

SAMPLE_RATE = 8000
AUDIO_SECONDS = 1.0
ENTRY_BYTES = len(wav_bytes(b"\0\0" * int(SAMPLE_RATE * AUDIO_SECONDS), SAMPLE_RATE))


class CountingProvider:
    """A speech provider that makes one second of silence slowly and counts its calls."""

    name = ProviderName.LOCAL
    default_voice_id = "en-us"
    default_model_id = "counting"

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.calls: list[str] = []

    async def synthesize(self, request: SpeechRequest, *, deadline: float) -> SpeechAudio:
        self.calls.append(request.text)
        await asyncio.sleep(self.delay)
        pcm = b"\0\0" * int(SAMPLE_RATE * AUDIO_SECONDS)
        step = AUDIO_SECONDS / len(request.text)
        return SpeechAudio(
            audio=wav_bytes(pcm, SAMPLE_RATE),
            extension="wav",
            content_type="audio/wav",
            sample_rate=SAMPLE_RATE,
            characters=tuple(CharacterTiming(c, i * step, (i + 1) * step) for i, c in enumerate(request.text)),
            duration_seconds=AUDIO_SECONDS,
        )

    async def list_voices(self, *, deadline: float) -> list[VoiceInfo]:
        return []

    async def close(self) -> None:
        return None


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


def replica(
    redis_client: aioredis.Redis, redis_prefix: str, media: Path, provider: CountingProvider, max_bytes: int = 1 << 30
) -> tuple[Synthesizer, RedisSpeechCache, LocalMediaStore]:
    store = LocalMediaStore(media)
    cache = RedisSpeechCache(redis_client, KeySpace(redis_prefix, "tts"), store, max_bytes=max_bytes)
    return Synthesizer({ProviderName.LOCAL: provider}, ProviderName.LOCAL, cache, store), cache, store


def soon() -> float:
    return time.monotonic() + 30


async def test_second_call_is_a_hit_without_synthesis(
    redis_client: aioredis.Redis, redis_prefix: str, tmp_path: Path
) -> None:
    provider = CountingProvider()
    synthesizer, _, store = replica(redis_client, redis_prefix, tmp_path, provider)

    first = await synthesizer.synthesize(synthesis_request(text="Hello cache"), deadline=soon())
    second = await synthesizer.synthesize(synthesis_request(text="  Hello cache "), deadline=soon())

    assert (first.cache_hit, second.cache_hit) == (False, True)
    assert provider.calls == ["Hello cache"]
    assert second.record == first.record
    assert await store.exists(first.record.audio_key)
    assert first.record.audio_key.startswith("tts/") and first.record.size_bytes == ENTRY_BYTES


async def test_different_settings_are_different_entries(
    redis_client: aioredis.Redis, redis_prefix: str, tmp_path: Path
) -> None:
    provider = CountingProvider()
    synthesizer, _, _ = replica(redis_client, redis_prefix, tmp_path, provider)

    await synthesizer.synthesize(synthesis_request(text="Same"), deadline=soon())
    await synthesizer.synthesize(synthesis_request(text="Same", voice_settings={"speed": 1.1}), deadline=soon())
    await synthesizer.synthesize(synthesis_request(text="Same", voice_id="de"), deadline=soon())

    assert len(provider.calls) == 3


async def test_least_recently_used_entries_are_evicted_at_the_size_bound(
    redis_client: aioredis.Redis, redis_prefix: str, tmp_path: Path
) -> None:
    provider = CountingProvider()
    synthesizer, cache, store = replica(
        redis_client, redis_prefix, tmp_path, provider, max_bytes=int(2.5 * ENTRY_BYTES)
    )

    a = await synthesizer.synthesize(synthesis_request(text="entry a"), deadline=soon())
    b = await synthesizer.synthesize(synthesis_request(text="entry b"), deadline=soon())
    assert (await synthesizer.synthesize(synthesis_request(text="entry a"), deadline=soon())).cache_hit  # a is fresh
    c = await synthesizer.synthesize(synthesis_request(text="entry c"), deadline=soon())

    assert await cache.total_bytes() == 2 * ENTRY_BYTES <= cache.max_bytes
    assert not await store.exists(b.record.audio_key), "the least recently used audio is deleted"
    assert await store.exists(a.record.audio_key) and await store.exists(c.record.audio_key)
    again = await synthesizer.synthesize(synthesis_request(text="entry b"), deadline=soon())
    assert not again.cache_hit
    assert provider.calls == ["entry a", "entry b", "entry c", "entry b"]


async def test_an_entry_whose_audio_vanished_is_a_miss(
    redis_client: aioredis.Redis, redis_prefix: str, tmp_path: Path
) -> None:
    provider = CountingProvider()
    synthesizer, cache, store = replica(redis_client, redis_prefix, tmp_path, provider)
    first = await synthesizer.synthesize(synthesis_request(text="gone"), deadline=soon())
    await store.delete(first.record.audio_key)

    again = await synthesizer.synthesize(synthesis_request(text="gone"), deadline=soon())

    assert not again.cache_hit and len(provider.calls) == 2
    assert await store.exists(again.record.audio_key)
    assert await cache.total_bytes() == ENTRY_BYTES


async def test_twenty_identical_concurrent_calls_synthesize_once(
    redis_client: aioredis.Redis, redis_prefix: str, tmp_path: Path
) -> None:
    provider = CountingProvider(delay=0.3)
    synthesizer, _, _ = replica(redis_client, redis_prefix, tmp_path, provider)

    results = await asyncio.gather(
        *(synthesizer.synthesize(synthesis_request(text="all at once"), deadline=soon()) for _ in range(20))
    )

    assert provider.calls == ["all at once"]
    assert len({r.record.audio_key for r in results}) == 1
    assert synthesizer.in_flight == 0, "no per-request state is left behind"


async def test_replicas_sharing_redis_synthesize_once(
    redis_client: aioredis.Redis, redis_prefix: str, tmp_path: Path
) -> None:
    first_provider, second_provider = CountingProvider(delay=0.3), CountingProvider(delay=0.3)
    first, _, _ = replica(redis_client, redis_prefix, tmp_path, first_provider)
    second, _, _ = replica(redis_client, redis_prefix, tmp_path, second_provider)

    results = await asyncio.gather(
        *(
            replica_.synthesize(synthesis_request(text="shared by replicas"), deadline=soon())
            for replica_ in [first, second] * 5
        )
    )

    assert len(first_provider.calls) + len(second_provider.calls) == 1
    assert len({r.record.audio_key for r in results}) == 1


async def test_the_last_caller_leaving_cancels_the_shared_work(
    redis_client: aioredis.Redis, redis_prefix: str, tmp_path: Path
) -> None:
    provider = CountingProvider(delay=5.0)
    synthesizer, cache, _ = replica(redis_client, redis_prefix, tmp_path, provider)

    calls = [
        asyncio.create_task(synthesizer.synthesize(synthesis_request(text="abandoned"), deadline=soon()))
        for _ in range(3)
    ]
    await asyncio.sleep(0.2)
    for call in calls:
        call.cancel()
    await asyncio.gather(*calls, return_exceptions=True)
    await asyncio.sleep(0.05)

    assert synthesizer.in_flight == 0
    assert await cache.total_bytes() == 0
    # The fill lock was released, so the next caller synthesizes at once.
    provider.delay = 0.0
    again = await asyncio.wait_for(synthesizer.synthesize(synthesis_request(text="abandoned"), deadline=soon()), 2)
    assert not again.cache_hit


async def test_an_unreachable_redis_is_unavailable_not_internal(tmp_path: Path) -> None:
    unreachable = connect_redis("redis://127.0.0.1:9/0")  # discard port: nothing listens
    synthesizer, _, _ = replica(unreachable, "editai-test-nowhere:", tmp_path, CountingProvider())
    try:
        with pytest.raises(Unavailable) as error:
            await synthesizer.synthesize(synthesis_request(text="no cache"), deadline=soon())
    finally:
        await unreachable.aclose()
    assert error.value.reason == "CACHE_UNAVAILABLE"


def digest_of(record: SpeechRecord) -> str:
    return record.audio_key.rsplit("/", 1)[-1].split(".", 1)[0]


async def forget_index(redis_client: aioredis.Redis, redis_prefix: str) -> None:
    """What a Redis that lost its data (restart without persistence, failover) looks like."""
    keys = [key async for key in redis_client.scan_iter(match=f"{redis_prefix}*")]
    if keys:
        await redis_client.delete(*keys)


async def test_entries_survive_redis_losing_its_data(
    redis_client: aioredis.Redis, redis_prefix: str, tmp_path: Path
) -> None:
    provider = CountingProvider()
    synthesizer, cache, _ = replica(redis_client, redis_prefix, tmp_path, provider)
    first = await synthesizer.synthesize(synthesis_request(text="remember me"), deadline=soon())
    await forget_index(redis_client, redis_prefix)

    again = await synthesizer.synthesize(synthesis_request(text="remember me"), deadline=soon())

    assert again.cache_hit and again.record == first.record
    assert provider.calls == ["remember me"]
    assert await cache.total_bytes() == ENTRY_BYTES


async def test_a_lost_index_is_rebuilt_at_start_so_the_bound_holds(
    redis_client: aioredis.Redis, redis_prefix: str, tmp_path: Path
) -> None:
    provider = CountingProvider()
    synthesizer, _, store = replica(redis_client, redis_prefix, tmp_path, provider, max_bytes=int(2.5 * ENTRY_BYTES))
    made = [await synthesizer.synthesize(synthesis_request(text=f"entry {i}"), deadline=soon()) for i in range(2)]
    await forget_index(redis_client, redis_prefix)
    older = time.time() - 60
    os.utime(tmp_path / sidecar_key(digest_of(made[0].record)), (older, older))

    _, restarted, _ = replica(redis_client, redis_prefix, tmp_path, provider, max_bytes=int(2.5 * ENTRY_BYTES))
    assert await restarted.reconcile() == 2
    assert await restarted.reconcile() == 0  # only when the index is gone
    assert await restarted.total_bytes() == 2 * ENTRY_BYTES
    third = await synthesizer.synthesize(synthesis_request(text="entry 2"), deadline=soon())

    assert not await store.exists(made[0].record.audio_key), "the oldest rebuilt entry is evicted"
    assert not (tmp_path / sidecar_key(digest_of(made[0].record))).exists()
    assert await store.exists(made[1].record.audio_key) and await store.exists(third.record.audio_key)
