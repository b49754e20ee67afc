"""Composition root of the tts service: builds its adapters and serves gRPC.

The one place that constructs clients: the shared httpx client for ElevenLabs (when
keys are configured), the espeak-ng engine, Redis, the media store.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from editai.tts.v1 import tts_pb2, tts_pb2_grpc
from editai_common.errors import Unavailable
from editai_common.grpc_server import ServerContext, run_grpc_service
from editai_common.media_store import LocalMediaStore
from editai_common.redis_client import KeySpace, connect_redis
from services.tts.cache import RedisSpeechCache
from services.tts.config import Settings
from services.tts.providers.elevenlabs import ElevenLabsProvider, build_http_client
from services.tts.providers.local_espeak import LocalEspeakProvider
from services.tts.servicer import TtsServicer
from services.tts.speech import ProviderName, SpeechProvider
from services.tts.synthesis import Synthesizer

SERVICE_NAME = tts_pb2.DESCRIPTOR.services_by_name["TtsService"].full_name
DOMAIN = "tts.editai"

log = logging.getLogger("editai.tts")


def build_providers(settings: Settings) -> dict[ProviderName, SpeechProvider]:
    providers: dict[ProviderName, SpeechProvider] = {ProviderName.LOCAL: LocalEspeakProvider(settings.local_voice)}
    if settings.elevenlabs_enabled:
        client = build_http_client(settings.elevenlabs)
        providers[ProviderName.ELEVENLABS] = ElevenLabsProvider(client, settings.elevenlabs)
    return providers


async def serve(settings: Settings) -> None:
    @asynccontextmanager
    async def setup(ctx: ServerContext) -> AsyncIterator[None]:
        redis = connect_redis(settings.common.redis_url)
        store = LocalMediaStore(settings.common.media_dir)
        providers = build_providers(settings)
        default = ProviderName.ELEVENLABS if settings.elevenlabs_enabled else ProviderName.LOCAL
        cache = RedisSpeechCache(
            redis, KeySpace(settings.common.redis_prefix, "tts"), store, max_bytes=settings.cache_max_bytes
        )
        try:
            reindexed = await cache.reconcile()
        except Unavailable:
            # Serve anyway: calls answer CACHE_UNAVAILABLE until Redis is back, health stays honest.
            log.warning("redis unreachable at start; the tts cache index was not checked")
        else:
            if reindexed:
                log.info("tts cache index rebuilt from the media store", extra={"entries": reindexed})
        synthesizer = Synthesizer(providers, default, cache, store, noise_db=settings.silence_noise_db)
        servicer = TtsServicer(synthesizer, default_timeout_seconds=settings.request_timeout_seconds)
        ctx.add(SERVICE_NAME, tts_pb2_grpc.add_TtsServiceServicer_to_server, servicer)
        log.info(
            "tts configured",
            extra={
                "default_provider": default.value,
                "elevenlabs_keys": len(settings.elevenlabs.api_keys),
                "elevenlabs_base_url": settings.elevenlabs.base_url,
                "cache_max_bytes": settings.cache_max_bytes,
            },
        )
        try:
            yield
        finally:
            for provider in providers.values():
                await provider.close()
            await redis.aclose()

    await run_grpc_service("tts", port=settings.port, domain=DOMAIN, setup=setup)
