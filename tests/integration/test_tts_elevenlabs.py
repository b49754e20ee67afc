"""The ElevenLabs provider against a real HTTP stand-in on loopback: the API shape,
retries with backoff and Retry-After, key failover, and the error mapping."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

import pytest

from editai_common.errors import ServiceError
from services.tts.config import ElevenLabsSettings
from services.tts.errors import (
    UpstreamQuotaExceeded,
    UpstreamRejectedInput,
    UpstreamUnauthorized,
    UpstreamUnavailable,
    VoiceNotFound,
)
from services.tts.providers.elevenlabs import ElevenLabsProvider, build_http_client
from services.tts.providers.http_pool import ShardedTransport
from services.tts.speech import SpeechRequest, VoiceSettings
from tests.support.fake_elevenlabs import FakeElevenLabs, sine_mp3

TEXT = "Hello from the fake."


@pytest.fixture
def fake() -> Iterator[FakeElevenLabs]:
    with FakeElevenLabs() as server:
        yield server


def settings_for(fake: FakeElevenLabs, *keys: str, **overrides: Any) -> ElevenLabsSettings:
    settings = ElevenLabsSettings(
        base_url=fake.base_url,
        api_keys=keys or ("test-key",),
        default_voice_id="voice-rachel",
        model_id="eleven_flash_v2_5",
        connect_timeout=1.0,
        read_timeout=5.0,
        max_connections=100,
        max_attempts=3,
        deadline_seconds=20.0,
        key_cooldown_seconds=300.0,
    )
    return replace(settings, **overrides)


@pytest.fixture
async def provider(fake: FakeElevenLabs) -> AsyncIterator[ElevenLabsProvider]:
    made = ElevenLabsProvider(build_http_client(settings_for(fake)), settings_for(fake))
    yield made
    await made.close()


def speech(text: str = TEXT, voice: str = "voice-rachel", **settings: float) -> SpeechRequest:
    return SpeechRequest(text, voice, "eleven_flash_v2_5", VoiceSettings(**settings))  # type: ignore[arg-type]


def soon(seconds: float = 20.0) -> float:
    return time.monotonic() + seconds


async def test_speaks_the_real_api(provider: ElevenLabsProvider, fake: FakeElevenLabs) -> None:
    audio = await provider.synthesize(speech(), deadline=soon())

    assert audio.audio == sine_mp3()
    assert audio.content_type == "audio/mpeg" and audio.sample_rate == 44100
    assert "".join(c.character for c in audio.characters) == TEXT
    (sent,) = fake.tts_requests()
    assert sent.path == "/v1/text-to-speech/voice-rachel/with-timestamps"
    assert sent.api_key == "test-key"
    assert sent.body == {
        "text": TEXT,
        "model_id": "eleven_flash_v2_5",
        "voice_settings": {
            "stability": 0.57,
            "similarity_boost": 0.75,
            "style": 0.22,
            "use_speaker_boost": True,
            "speed": 1.0,
        },
    }


async def test_concurrent_calls_spread_over_the_pool_and_release_it(
    provider: ElevenLabsProvider, fake: FakeElevenLabs
) -> None:
    fake.latency = 0.2
    fake.script = [503] * 5

    await asyncio.gather(*(provider.synthesize(speech(f"call {i}"), deadline=soon()) for i in range(30)))

    transport = provider._client._transport  # the one shared client's transport
    assert isinstance(transport, ShardedTransport)
    assert transport._busy == [0] * len(transport._busy), "every connection went back to its pool"
    assert len(fake.tts_requests()) == 35


async def test_429_twice_then_success_is_retried(provider: ElevenLabsProvider, fake: FakeElevenLabs) -> None:
    fake.script = [429, 429]

    audio = await provider.synthesize(speech(), deadline=soon())

    assert audio.audio == sine_mp3()
    assert len(fake.tts_requests()) == 3


async def test_backoff_waits_between_attempts(provider: ElevenLabsProvider, fake: FakeElevenLabs) -> None:
    fake.script = [503, 503]

    await provider.synthesize(speech(), deadline=soon())

    first, second, third = (r.at for r in fake.tts_requests())
    assert second - first >= 0.2  # exponential: 0.2 s, then 0.4 s, plus jitter
    assert third - second >= 0.4


async def test_retry_after_is_honoured(provider: ElevenLabsProvider, fake: FakeElevenLabs) -> None:
    fake.script = [429]
    fake.retry_after = "1.2"

    await provider.synthesize(speech(), deadline=soon())

    first, second = (r.at for r in fake.tts_requests())
    assert second - first >= 1.2


async def test_503_forever_is_unavailable_after_three_attempts(
    provider: ElevenLabsProvider, fake: FakeElevenLabs
) -> None:
    fake.fail_with = 503

    with pytest.raises(UpstreamUnavailable) as error:
        await provider.synthesize(speech(), deadline=soon())

    assert error.value.reason == "ELEVENLABS_UNAVAILABLE"
    assert len(fake.tts_requests()) == 3


async def test_a_retry_after_past_the_deadline_stops_at_once(
    provider: ElevenLabsProvider, fake: FakeElevenLabs
) -> None:
    fake.fail_with = 429
    fake.retry_after = "30"
    started = time.monotonic()

    with pytest.raises(UpstreamUnavailable) as error:
        await provider.synthesize(speech(), deadline=soon(3.0))

    assert time.monotonic() - started < 1.0
    assert len(fake.tts_requests()) == 1
    assert error.value.retry_after_seconds == pytest.approx(30, abs=1)


async def test_timeouts_are_retried_then_unavailable(fake: FakeElevenLabs) -> None:
    fake.latency = 1.0
    settings = settings_for(fake, read_timeout=0.2)
    provider = ElevenLabsProvider(build_http_client(settings), settings)
    try:
        with pytest.raises(UpstreamUnavailable, match="timeout"):
            await provider.synthesize(speech(), deadline=soon())
    finally:
        await provider.close()
    assert len(fake.tts_requests()) == 3


async def test_connection_refused_is_unavailable() -> None:
    dead = FakeElevenLabs().start()
    dead.stop()  # the port is now closed
    settings = settings_for(dead)
    provider = ElevenLabsProvider(build_http_client(settings), settings)
    try:
        with pytest.raises(UpstreamUnavailable, match="connection error"):
            await provider.synthesize(speech(), deadline=soon())
    finally:
        await provider.close()


async def test_401_is_not_retried_and_is_unauthorized(fake: FakeElevenLabs) -> None:
    settings = settings_for(fake, "sk-wrong-secret")
    provider = ElevenLabsProvider(build_http_client(settings), settings)
    try:
        with pytest.raises(UpstreamUnauthorized) as error:
            await provider.synthesize(speech(), deadline=soon())
    finally:
        await provider.close()
    assert error.value.reason == "ELEVENLABS_UNAUTHORIZED"
    assert error.value.code.name == "FAILED_PRECONDITION"
    assert "sk-wrong-secret" not in error.value.message
    assert len(fake.tts_requests()) == 1


async def test_402_is_resource_exhausted(fake: FakeElevenLabs) -> None:
    fake.quota_keys.add("test-key")

    settings = settings_for(fake)
    provider = ElevenLabsProvider(build_http_client(settings), settings)
    try:
        with pytest.raises(UpstreamQuotaExceeded) as error:
            await provider.synthesize(speech(), deadline=soon())
    finally:
        await provider.close()
    assert error.value.code.name == "RESOURCE_EXHAUSTED"
    assert error.value.reason == "ELEVENLABS_QUOTA_EXCEEDED"
    assert len(fake.tts_requests()) == 1


async def test_422_is_invalid_argument(provider: ElevenLabsProvider, fake: FakeElevenLabs) -> None:
    with pytest.raises(UpstreamRejectedInput) as error:
        await provider.synthesize(speech(speed=1.5), deadline=soon())

    assert error.value.code.name == "INVALID_ARGUMENT"
    assert "voice_settings.speed" in error.value.message
    assert len(fake.tts_requests()) == 1


async def test_unknown_voice_is_not_found(provider: ElevenLabsProvider, fake: FakeElevenLabs) -> None:
    with pytest.raises(VoiceNotFound):
        await provider.synthesize(speech(voice="no-such-voice"), deadline=soon())
    with pytest.raises(VoiceNotFound):
        await provider.synthesize(speech(voice="../voices"), deadline=soon())  # never reaches the URL
    assert len(fake.tts_requests()) == 1


async def test_a_refused_key_is_set_aside_and_the_next_one_used(fake: FakeElevenLabs) -> None:
    fake.quota_keys.add("sk-poor")
    settings = settings_for(fake, "sk-revoked", "sk-poor", "test-key")
    provider = ElevenLabsProvider(build_http_client(settings), settings)
    try:
        await provider.synthesize(speech(), deadline=soon())
        await provider.synthesize(speech("Again."), deadline=soon())
    finally:
        await provider.close()

    assert [r.api_key for r in fake.tts_requests()] == ["sk-revoked", "sk-poor", "test-key", "test-key"]


async def test_every_key_refused_reports_the_quota(fake: FakeElevenLabs) -> None:
    fake.quota_keys.add("sk-poor")
    settings = settings_for(fake, "sk-revoked", "sk-poor")
    provider = ElevenLabsProvider(build_http_client(settings), settings)
    try:
        with pytest.raises(ServiceError) as error:
            await provider.synthesize(speech(), deadline=soon())
    finally:
        await provider.close()
    assert error.value.reason == "ELEVENLABS_QUOTA_EXCEEDED"
    assert "sk-" not in error.value.message


async def test_list_voices(provider: ElevenLabsProvider, fake: FakeElevenLabs) -> None:
    voices = await provider.list_voices(deadline=soon())
    again = await provider.list_voices(deadline=soon())

    assert {v.voice_id for v in voices} >= {"voice-rachel", "voice-adam"}
    assert all(v.language == "en" and v.category == "premade" for v in voices)
    assert again == voices
    assert [r.path for r in fake.requests] == ["/v1/voices"], "the list is kept for a while"
