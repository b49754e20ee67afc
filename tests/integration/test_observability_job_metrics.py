"""After real work, a service's /metrics shows the named series with their labels.

The tts service synthesizes with the local engine (espeak-ng): the first call misses
the cache, the repeat hits it, and both are counted per method and code.
"""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from editai.tts.v1 import tts_pb2, tts_pb2_grpc
from editai_common.grpc_client import open_channel
from tests.conftest import StartService


def sample_values(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_tts_metrics_after_synthesizing_twice(start_service: StartService) -> None:
    tts = start_service("tts")
    channel = open_channel(tts.address)
    try:
        stub = tts_pb2_grpc.TtsServiceStub(channel)
        request = tts_pb2.SynthesizeRequest(text="Metrics after a job.", provider=tts_pb2.PROVIDER_LOCAL)
        first = await stub.Synthesize(request, metadata=[("x-profile-id", "local")], timeout=60)
        second = await stub.Synthesize(request, metadata=[("x-profile-id", "local")], timeout=60)
    finally:
        await channel.close(None)
    assert (first.cache_hit, second.cache_hit) == (False, True)

    async with httpx.AsyncClient() as client:
        text = (await client.get(f"http://127.0.0.1:{tts.metrics_port}/metrics", timeout=5)).text
    values = sample_values(text)
    synthesize = (("code", "OK"), ("method", "editai.tts.v1.TtsService/Synthesize"), ("service", "tts"))
    assert values[("editai_grpc_requests_total", synthesize)] == 2
    assert values[("editai_tts_cache_misses_total", ())] == 1
    assert values[("editai_tts_cache_hits_total", ())] == 1
    latency = (("method", "editai.tts.v1.TtsService/Synthesize"), ("service", "tts"))
    assert values[("editai_grpc_request_seconds_count", latency)] == 2
