"""Composition root of the render service: reads nothing itself, builds every adapter from
Settings, wires them into the domain, and runs the API, the workers and the reaper."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from editai.render.v1 import render_pb2, render_pb2_grpc
from editai_common.grpc_client import open_channel
from editai_common.grpc_server import ServerContext, run_grpc_service
from editai_common.media_store import LocalMediaStore
from editai_common.postgres import migrate, open_pool
from editai_common.redis_client import KeySpace, connect_redis
from services.render.adapters.postgres_jobs import PostgresJobStore
from services.render.adapters.postgres_library import PostgresLibrary
from services.render.adapters.progress_client import GrpcProgressReporter
from services.render.adapters.redis_queue import RedisCancelBus, RedisJobQueue
from services.render.adapters.tts_client import GrpcSpeech
from services.render.config import Settings
from services.render.job_requests import JobRequests
from services.render.library import Library
from services.render.pipelines import PIPELINES
from services.render.reaper import Reaper
from services.render.scheduler import JobScheduler
from services.render.servicer import RenderServicer
from services.render.worker import Worker, WorkerConfig, new_worker_id

SERVICE_NAME = render_pb2.DESCRIPTOR.services_by_name["RenderService"].full_name
DOMAIN = "render.editai"
MIGRATIONS = Path(__file__).parent / "migrations"

log = logging.getLogger("editai.render")


@dataclass(frozen=True)
class Runtime:
    library: Library
    scheduler: JobScheduler
    requests: JobRequests
    worker: Worker | None


@asynccontextmanager
async def render_runtime(settings: Settings, *, workers: int) -> AsyncIterator[Runtime]:
    """Everything a render process runs; background tasks stop and clients close on exit."""
    common = settings.common
    await migrate(common.database_url, "render", MIGRATIONS)
    pool = await open_pool(common.database_url, min_size=2, max_size=settings.db_pool_size, name="render")
    redis = connect_redis(common.redis_url)
    keys = KeySpace(common.redis_prefix, "render")
    progress_channel = open_channel(settings.progress_address)
    tts_channel = open_channel(settings.tts_address)
    tasks: list[asyncio.Task[None]] = []
    try:
        queue = RedisJobQueue(redis, keys, reclaim_idle_seconds=settings.lease_ttl_seconds)
        await queue.ensure_group()
        cancel_bus = RedisCancelBus(redis, keys)
        progress = GrpcProgressReporter(progress_channel)
        media = LocalMediaStore(common.media_dir)
        jobs = PostgresJobStore(pool, job_timeout_seconds=settings.job_timeout_seconds,
                                max_attempts=settings.max_attempts)  # fmt: skip
        library_store = PostgresLibrary(pool)
        scheduler = JobScheduler(jobs, queue, cancel_bus, progress, media)
        library = Library(library_store, media, scheduler)
        reaper = Reaper(jobs, queue, cancel_bus, progress, media, work_dir=settings.work_dir,
                        interval_seconds=max(0.5, settings.lease_ttl_seconds / 3),
                        requeue_after_seconds=settings.requeue_after_seconds,
                        consumer_idle_seconds=max(60.0, settings.lease_ttl_seconds * 4))  # fmt: skip
        tasks.append(asyncio.create_task(reaper.run(), name="reaper"))
        worker = None
        if workers > 0:
            settings.work_dir.mkdir(parents=True, exist_ok=True)
            config = WorkerConfig(
                worker_id=new_worker_id(),
                slots=workers,
                lease_ttl=settings.lease_ttl_seconds,
                renew_interval=settings.renew_interval_seconds,
                work_dir=settings.work_dir,
            )
            worker = Worker(config, jobs, queue, progress, library_store, media, GrpcSpeech(tts_channel), PIPELINES)
            subscribed = asyncio.Event()
            tasks.append(asyncio.create_task(cancel_bus.listen(worker.cancel_local, subscribed), name="cancels"))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(subscribed.wait(), 5.0)
            tasks.append(asyncio.create_task(worker.run(), name="worker"))
            log.info("workers started", extra={"worker_id": config.worker_id, "slots": workers})
        yield Runtime(library, scheduler, JobRequests(library_store, media), worker)
    finally:
        # Workers first: their attempts hand jobs back while Postgres and Redis are still open.
        for task in reversed(tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await progress_channel.close(None)
        await tts_channel.close(None)
        await redis.aclose()
        await pool.close()


async def serve(settings: Settings) -> None:
    """`python -m services.render`: the RenderService API plus EDITAI_RENDER_WORKERS workers."""

    @asynccontextmanager
    async def setup(ctx: ServerContext) -> AsyncIterator[None]:
        async with render_runtime(settings, workers=settings.workers) as runtime:
            servicer = RenderServicer(runtime.library, runtime.scheduler, runtime.requests,
                                      dev_auth=settings.common.dev_auth)  # fmt: skip
            ctx.add(SERVICE_NAME, render_pb2_grpc.add_RenderServiceServicer_to_server, servicer)
            yield

    await run_grpc_service("render", port=settings.port, domain=DOMAIN, setup=setup)


async def serve_worker(settings: Settings) -> None:
    """`python -m services.render.worker`: workers only (gRPC health on the port, for probes)."""

    @asynccontextmanager
    async def setup(ctx: ServerContext) -> AsyncIterator[None]:
        async with render_runtime(settings, workers=max(1, settings.workers)):
            yield

    await run_grpc_service("render_worker", port=settings.port, domain=DOMAIN, setup=setup)
