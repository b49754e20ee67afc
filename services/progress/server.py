"""Composition root of the progress service: reads nothing itself, builds and wires everything."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import redis.asyncio as aioredis

from editai.progress.v1 import progress_pb2, progress_pb2_grpc
from editai_common.grpc_server import ServerContext, run_grpc_service
from editai_common.postgres import migrate, open_pool
from editai_common.redis_client import KeySpace
from services.progress.adapters.postgres_store import PostgresProgressStore
from services.progress.adapters.redis_hot_store import RedisHotStore
from services.progress.config import Settings
from services.progress.ports import HotStore
from services.progress.read_cache import CachedHotStore, ReadCache
from services.progress.readiness import DatabaseReadiness
from services.progress.servicer import ProgressServicer
from services.progress.tracker import ProgressTracker
from services.progress.watchers import WatchHub
from services.progress.write_behind import WriteBehind

SERVICE_NAME = progress_pb2.DESCRIPTOR.services_by_name["ProgressService"].full_name
DOMAIN = "progress.editai"
MIGRATIONS = Path(__file__).parent / "migrations"
SHUTDOWN_FLUSH_SECONDS = 5.0
REDIS_CONNECTIONS = 32
READ_CACHE_ENTRIES = 10_000
# Finished jobs never change (a clear is fanned out), so their reads stay in memory longer.
READ_CACHE_TERMINAL_TTL_SECONDS = 60.0


async def serve(settings: Settings, stop_event: asyncio.Event | None = None) -> None:
    common = settings.common

    @asynccontextmanager
    async def setup(ctx: ServerContext) -> AsyncIterator[None]:
        await migrate(common.database_url, "progress", MIGRATIONS)
        pool = await open_pool(common.database_url, min_size=1, max_size=settings.db_pool_size, name="progress")
        # A blocking pool: a burst of concurrent updates waits for a connection instead of
        # failing with "too many connections" (the shared helper's pool raises).
        client = aioredis.Redis.from_pool(
            aioredis.BlockingConnectionPool.from_url(
                common.redis_url,
                max_connections=REDIS_CONNECTIONS,
                timeout=2.0,
                socket_connect_timeout=2.0,
                socket_timeout=5.0,
                health_check_interval=15,
            )
        )
        # Pub/sub waits indefinitely for messages, so it must not inherit a read timeout.
        listener = aioredis.Redis.from_url(common.redis_url, socket_connect_timeout=2.0, health_check_interval=10)
        db_timeout = settings.db_timeout_ms / 1000

        async def report_readiness(reachable: bool) -> None:
            await ctx.set_serving(SERVICE_NAME, reachable)

        durable = PostgresProgressStore(pool, timeout=db_timeout)
        readiness = DatabaseReadiness(durable.ping, report_readiness, settings.probe_interval_ms / 1000)
        write_behind = WriteBehind(durable, readiness, interval=settings.flush_interval_ms / 1000)
        keys = KeySpace(common.redis_prefix, "progress")
        hot: HotStore = RedisHotStore(client, listener, keys, ttl_seconds=settings.hot_ttl_seconds)
        if settings.read_cache_ttl_ms > 0:
            cache = ReadCache(
                max_entries=READ_CACHE_ENTRIES,
                ttl=settings.read_cache_ttl_ms / 1000,
                terminal_ttl=READ_CACHE_TERMINAL_TTL_SECONDS,
            )
            hot = CachedHotStore(hot, cache)
        tracker = ProgressTracker(hot, durable, write_behind, readiness, WatchHub())
        ctx.add(
            SERVICE_NAME,
            progress_pb2_grpc.add_ProgressServiceServicer_to_server,
            ProgressServicer(tracker, domain=DOMAIN),
        )

        tasks = [
            asyncio.create_task(write_behind.run(), name="progress-write-behind"),
            asyncio.create_task(readiness.run(), name="progress-readiness"),
            asyncio.create_task(tracker.listen(), name="progress-fan-out"),
        ]
        try:
            yield
        finally:
            # The server has drained: nothing adds pending writes any more.
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await write_behind.drain(SHUTDOWN_FLUSH_SECONDS)
            await pool.close()
            await client.aclose()
            await listener.aclose()

    await run_grpc_service("progress", port=settings.port, domain=DOMAIN, setup=setup, stop_event=stop_event)
