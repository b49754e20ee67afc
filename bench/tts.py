"""TTS benchmark: concurrency against a slow upstream, cache-hit latency, local engine speed.

`python3 dev.py bench tts` (or `.venv/bin/python -m bench tts`). Starts a fake ElevenLabs
(real HTTP on loopback, 300 ms per call) and a tts service process with a fresh Redis
key prefix, then measures, side by side in this run:

1. ElevenLabs path, distinct texts so the cache never helps:
   - baseline: calls one after another (one call's latency, and what 50 would cost in series);
   - 50 concurrent Synthesize calls (3 bursts, median): wall time, ratio to one call (target < 2x).
   The machine's load average is printed: on a shared 2-core box, other work skews both sides.
2. Cache-hit latency of Synthesize over gRPC (same text again): p50 / p99 of 500 calls.
3. Local engine (espeak-ng): real-time factor = synthesis seconds / audio seconds, in
   process and end to end through the service (WAV written to the media store).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import grpc
import redis

from bench._world import percentile
from editai.tts.v1 import tts_pb2, tts_pb2_grpc
from editai_common.embedded import LOCAL_DATABASE_URL, LOCAL_REDIS_URL
from services.tts.providers.local_espeak import LocalEspeakProvider
from services.tts.speech import SpeechRequest, VoiceSettings
from tests.support.fake_elevenlabs import FakeElevenLabs
from tests.support.processes import ServiceProcess, service_env

LATENCY = 0.3
CONCURRENT = 50
SEQUENTIAL = 8
BURSTS = 3
CACHE_HITS = 500
KEY = "sk-bench-key"
PARAGRAPH = (
    "EditAI turns a source video, a voiceover script and subtitle styling into finished short-form clips. "
    "Every clip needs speech whose words line up with the subtitles, so timings matter as much as the audio. "
)


async def _synthesize(client: tts_pb2_grpc.TtsServiceStub, text: str, **fields: object) -> tts_pb2.SynthesizeResponse:
    return await client.Synthesize(tts_pb2.SynthesizeRequest(text=text, **fields), timeout=60)  # type: ignore[arg-type]


async def _elevenlabs_figures(address: str, fake: FakeElevenLabs) -> None:
    async with grpc.aio.insecure_channel(address) as channel:
        client = tts_pb2_grpc.TtsServiceStub(channel)
        await _synthesize(client, "warm-up")
        run = uuid.uuid4().hex[:8]

        sequential: list[float] = []
        for i in range(SEQUENTIAL):
            started = time.perf_counter()
            await _synthesize(client, f"sequential {run} {i}")
            sequential.append(time.perf_counter() - started)
        one_call = statistics.median(sequential)

        bursts: list[float] = []
        for burst in range(BURSTS):
            before = len(fake.tts_requests())
            started = time.perf_counter()
            replies = await asyncio.gather(
                *(_synthesize(client, f"concurrent {run} {burst} {i}") for i in range(CONCURRENT))
            )
            bursts.append(time.perf_counter() - started)
            assert not any(r.cache_hit for r in replies)
            assert len(fake.tts_requests()) - before == CONCURRENT
        concurrent = statistics.median(bursts)

        ratio = concurrent / one_call
        print(f"machine load average (1 min)           {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"upstream latency (fake ElevenLabs)      {LATENCY * 1000:.0f} ms per call")
        print(f"baseline: one call (median of {SEQUENTIAL})      {one_call * 1000:.1f} ms")
        print(f"baseline: {CONCURRENT} calls in series (one call x{CONCURRENT}) {one_call * CONCURRENT:.2f} s")
        print(
            f"{CONCURRENT} concurrent calls, {BURSTS} bursts          "
            + " / ".join(f"{b * 1000:.0f}" for b in bursts)
            + f" ms (median {concurrent * 1000:.0f} ms)"
        )
        print(
            f"ratio concurrent / one call            {ratio:.2f}x  (target < 2.00x: {'met' if ratio < 2 else 'MISSED'})"
        )
        print(f"speed-up vs series                     {one_call * CONCURRENT / concurrent:.1f}x")

        hit_text = f"cache hit {run}"
        await _synthesize(client, hit_text)
        latencies: list[float] = []
        for _ in range(CACHE_HITS):
            started = time.perf_counter()
            reply = await _synthesize(client, hit_text)
            latencies.append(time.perf_counter() - started)
            assert reply.cache_hit
        print(
            f"cache hit latency ({CACHE_HITS} calls)          p50 {percentile(latencies, 0.5) * 1000:.2f} ms"
            f"  p99 {percentile(latencies, 0.99) * 1000:.2f} ms"
        )


async def _local_figures(address: str) -> None:
    provider = LocalEspeakProvider()
    text = PARAGRAPH * 8
    await provider.synthesize(SpeechRequest("warm up", "en-us", "espeak-ng", VoiceSettings()), deadline=1e12)
    started = time.perf_counter()
    produced = await provider.synthesize(SpeechRequest(text, "en-us", "espeak-ng", VoiceSettings()), deadline=1e12)
    took = time.perf_counter() - started
    audio = produced.duration_seconds or 0.0
    print(
        f"local engine in process                {audio:.1f} s of speech in {took * 1000:.0f} ms"
        f"  -> real-time factor {took / audio:.4f}"
    )
    async with grpc.aio.insecure_channel(address) as channel:
        client = tts_pb2_grpc.TtsServiceStub(channel)
        started = time.perf_counter()
        reply = await _synthesize(client, f"{uuid.uuid4().hex[:6]} {text}", provider=tts_pb2.PROVIDER_LOCAL)
        took = time.perf_counter() - started
        print(
            f"local engine through the service       {reply.duration_seconds:.1f} s in {took * 1000:.0f} ms"
            f"  -> real-time factor {took / reply.duration_seconds:.4f}"
        )
        started = time.perf_counter()
        reply = await _synthesize(
            client,
            f"{uuid.uuid4().hex[:6]} {text}",
            provider=tts_pb2.PROVIDER_LOCAL,
            silence_trimming=tts_pb2.SilenceTrimming(enabled=True),
        )
        took = time.perf_counter() - started
        print(
            f"  ... with silence trimming            {reply.duration_seconds:.1f} s in {took * 1000:.0f} ms"
            f"  -> real-time factor {took / reply.duration_seconds:.4f}"
            f"  (removed {reply.trim_stats.removed_seconds:.2f} s)"
        )


def main() -> None:
    prefix = f"editai-bench-tts-{uuid.uuid4().hex[:8]}:"
    fake_upstream = FakeElevenLabs(latency=LATENCY, keys={KEY})
    with tempfile.TemporaryDirectory(prefix="bench-tts-") as folder, fake_upstream as fake:
        logs = Path(folder) / "logs"
        logs.mkdir()
        data = Path(folder) / "data"
        data.mkdir()
        env = service_env(
            {
                "EDITAI_DATABASE_URL": LOCAL_DATABASE_URL,
                "EDITAI_REDIS_URL": LOCAL_REDIS_URL,
                "EDITAI_REDIS_PREFIX": prefix,
                "EDITAI_DATA_DIR": str(data),
                "EDITAI_LOG_LEVEL": "WARNING",
                "EDITAI_TTS_METRICS_PORT": "0",
                "EDITAI_ELEVENLABS_BASE_URL": fake.base_url,
                "EDITAI_ELEVENLABS_API_KEYS": KEY,
                "EDITAI_ELEVENLABS_DEFAULT_VOICE_ID": "voice-rachel",
            }
        )
        service = ServiceProcess("services.tts", env, logs).start()
        try:
            asyncio.run(_elevenlabs_figures(service.address, fake))
            asyncio.run(_local_figures(service.address))
        finally:
            service.terminate()
            client = redis.Redis.from_url(LOCAL_REDIS_URL)
            keys = list(client.scan_iter(match=f"{prefix}*"))
            if keys:
                client.delete(*keys)
            client.close()


if __name__ == "__main__":
    main()
