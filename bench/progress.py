"""Progress service benchmarks (DESIGN.md §7): durable update throughput and GetProgress latency.

1. Durable progress updates per second, 1,000 concurrent jobs, side by side in
   alternating rounds (A B A B …, medians) so a busy machine hits both alike:
   - naive baseline: every update is one upsert committed to Postgres before it
     counts (same table and statement shape, a pool of 8 connections, driven
     directly from this process: no gRPC cost on this side at all);
   - the real service over gRPC: non-terminal updates acknowledged from the Redis hot
     store and written behind (≤ one flush interval), each job's last update terminal
     and therefore committed before its ack (group commit).
   Both keep the same promise: a crash loses at most one flush interval of
   non-terminal progress and never a terminal state. After the service rounds the
   table is checked: every job's row holds its last acknowledged sequence.
   Also printed: the most literal naive writer (one blocking connection, upserts one
   after another), the durable write path alone (the service's own batched upsert, the
   statement one flush sends) in rows/s, and the service's CPU time per update —
   figures that a loaded machine does not distort much.
2. GetProgress at a paced 2,000 req/s for 10 s: requests follow a fixed timetable and
   latency counts from each request's scheduled moment, so a stalled client cannot
   hide queueing (no coordinated omission); latency from the actual send is shown too;
   the same reads then go to a process with the in-process read cache turned off.
3. Peak RSS of the service process (the kernel's VmHWM, else psutil's RSS).

`.venv/bin/python -m bench progress` — uses the machine's Postgres and Redis
(EDITAI_DATABASE_URL / EDITAI_REDIS_URL, defaulting to 127.0.0.1), a fresh database
and its own Redis key prefix, both removed afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import grpc
import psutil
import psycopg
import redis
from psycopg_pool import AsyncConnectionPool

from editai.progress.v1 import progress_pb2, progress_pb2_grpc
from editai_common.postgres import migrate
from services.progress.adapters.postgres_store import PostgresProgressStore
from services.progress.coalescer import Outcome, ProgressCoalescer
from services.progress.domain import JobStatus, ProgressRecord
from services.progress.server import MIGRATIONS
from tests.support.databases import create_database, drop_database
from tests.support.processes import ServiceProcess, service_env

JOBS = 1000
ROUND_SECONDS = 4.0
BASELINE_POOL = 8
CHANNELS = 4
JOB_REPORT_SECONDS = 0.025  # each coalesced job reports 40 times a second
GET_RATE = 2000
GET_SECONDS = 8.0
GET_WORKERS = 64
LOAD_PROCESSES = 2
CAPACITY_SENDERS = 2
FLUSH_INTERVAL_MS = 100

_NAIVE_UPSERT = """
INSERT INTO progress.jobs AS stored (job_id, project_id, profile_id, percentage, current_step,
    estimated_remaining_seconds, status, error, fencing_token, sequence, created_at, updated_at)
VALUES (%s, '', 'bench', %s, 'encoding', NULL, %s, '', 1, %s, now(), now())
ON CONFLICT (job_id) DO UPDATE SET percentage = excluded.percentage, status = excluded.status,
    sequence = excluded.sequence, updated_at = excluded.updated_at
WHERE excluded.sequence > stored.sequence
"""

Update = Callable[[str, int, bool], Awaitable[None]]


@dataclass(frozen=True)
class Round:
    updates: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.updates / self.seconds


def _percentage(step: int) -> float:
    return min(99.0, step * 0.01)


async def _drive_jobs(update: Update, prefix: str, seconds: float) -> Round:
    """Each of JOBS jobs reports as fast as it is acknowledged until time is up, then finishes."""
    acked = 0
    start = time.perf_counter()
    deadline = start + seconds

    async def job(index: int) -> None:
        nonlocal acked
        job_id = f"{prefix}-{index}"
        step = 0
        while time.perf_counter() < deadline:
            step += 1
            await update(job_id, step, False)
            acked += 1
        await update(job_id, step + 1, True)
        acked += 1

    await asyncio.gather(*(job(i) for i in range(JOBS)))
    return Round(acked, time.perf_counter() - start)


async def _naive_round(pool: AsyncConnectionPool, prefix: str) -> Round:
    async def upsert(job_id: str, step: int, terminal: bool) -> None:
        status = JobStatus.SUCCEEDED if terminal else JobStatus.RUNNING
        async with pool.connection() as conn:
            await conn.execute(_NAIVE_UPSERT, (job_id, _percentage(step), int(status), step))

    return await _drive_jobs(upsert, prefix, ROUND_SECONDS)


def _sequential_naive_rate(database_url: str) -> float:
    """The most literal naive writer: one blocking connection, one committed upsert after another."""
    done, step = 0, 0
    with psycopg.connect(database_url, autocommit=True) as conn:
        start = time.perf_counter()
        deadline = start + ROUND_SECONDS
        while time.perf_counter() < deadline:
            step += 1
            for index in range(JOBS):  # the 1,000 jobs round robin, as one render process would
                conn.execute(_NAIVE_UPSERT, (f"seq-{index}", _percentage(step), int(JobStatus.RUNNING), step))
                done += 1
                if index % 100 == 99 and time.perf_counter() >= deadline:
                    break
        return done / (time.perf_counter() - start)


async def _unary_round(
    stubs: list[progress_pb2_grpc.ProgressServiceStub], prefix: str, last_sequence: dict[str, int]
) -> Round:
    async def update(job_id: str, step: int, terminal: bool) -> None:
        reply = await stubs[step % CHANNELS].UpdateProgress(_request(job_id, step, terminal), timeout=30)
        last_sequence[job_id] = reply.progress.sequence

    return await _drive_jobs(update, prefix, ROUND_SECONDS)


def _request(job_id: str, step: int, terminal: bool) -> progress_pb2.UpdateProgressRequest:
    return progress_pb2.UpdateProgressRequest(
        job_id=job_id,
        profile_id="bench",
        percentage=100.0 if terminal else _percentage(step),
        current_step="done" if terminal else "encoding",
        status=progress_pb2.JOB_STATUS_SUCCEEDED if terminal else progress_pb2.JOB_STATUS_RUNNING,
        fencing_token=1,
    )


@dataclass(frozen=True)
class CoalescedRound:
    reported: int  # updates the jobs handed to the coalescer
    acknowledged: int  # of those, the ones the service acknowledged (durable under its promise)
    batches: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.acknowledged / self.seconds


async def _coalesced_round(
    stub: progress_pb2_grpc.ProgressServiceStub, prefix: str, last_sequence: dict[str, int]
) -> CoalescedRound:
    """JOBS jobs in one "render process": each reports a new value every JOB_REPORT_SECONDS,
    the coalescer sends the latest per job every COALESCE_SECONDS as one BatchUpdateProgress;
    at the end every job reports its terminal state and one last flush makes it durable."""
    coalescer = ProgressCoalescer(lambda request: stub.BatchUpdateProgress(request, timeout=30))
    acknowledged = batches = reported = 0

    def count(outcomes: list[Outcome]) -> None:
        nonlocal acknowledged, batches
        batches += 1
        for request, result in outcomes:
            if result.WhichOneof("outcome") == "progress":
                acknowledged += 1
                last_sequence[request.job_id] = result.progress.sequence

    loop = asyncio.get_running_loop()
    start = loop.time()
    sender = asyncio.create_task(coalescer.run(count))
    step = 0
    try:
        while loop.time() - start < ROUND_SECONDS:
            step += 1
            for index in range(JOBS):  # one tick of every job (a task per job costs the same, plus wakeups)
                coalescer.report(_request(f"{prefix}-{index}", step, False))
            reported += JOBS
            await asyncio.sleep(JOB_REPORT_SECONDS)
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
    for index in range(JOBS):
        coalescer.report(_request(f"{prefix}-{index}", step + 1, True))
    reported += JOBS
    count(await coalescer.flush())  # terminal items: durable when this returns
    return CoalescedRound(reported, acknowledged, batches, loop.time() - start)


async def _batch_capacity_round(stubs: list[progress_pb2_grpc.ProgressServiceStub], prefix: str) -> Round:
    """What the service absorbs when batches arrive back to back (several render processes):
    CAPACITY_SENDERS senders, each with its own 1,000 jobs, one batch of all of them after another."""
    acked = 0
    loop = asyncio.get_running_loop()
    start = loop.time()

    async def sender(n: int) -> None:
        nonlocal acked
        step = 0
        while loop.time() - start < ROUND_SECONDS:
            step += 1
            updates = [_request(f"{prefix}{n}-{index}", step, False) for index in range(JOBS)]
            reply = await stubs[n % CHANNELS].BatchUpdateProgress(
                progress_pb2.BatchUpdateProgressRequest(updates=updates), timeout=30
            )
            acked += sum(1 for result in reply.results if result.WhichOneof("outcome") == "progress")

    await asyncio.gather(*(sender(n) for n in range(CAPACITY_SENDERS)))
    return Round(acked, loop.time() - start)


async def _batched_upsert_rows_per_second(pool: AsyncConnectionPool) -> float:
    """The write-behind's durable path alone: the service's adapter, one statement per 1,000 jobs."""
    store = PostgresProgressStore(pool, timeout=10)
    now = int(time.time() * 1000)
    rounds, start = 20, time.perf_counter()
    for sequence in range(1, rounds + 1):
        await store.upsert_many(
            ProgressRecord(
                job_id=f"batch-{n}",
                project_id="",
                profile_id="bench",
                percentage=_percentage(sequence),
                current_step="encoding",
                estimated_remaining_seconds=None,
                status=JobStatus.RUNNING,
                error="",
                fencing_token=1,
                sequence=sequence,
                created_at_ms=now,
                updated_at_ms=now + sequence,
            )
            for n in range(JOBS)
        )
    return rounds * JOBS / (time.perf_counter() - start)


def _lagging_jobs(database_url: str, last_sequence: dict[str, int], prefix: str) -> int:
    """Jobs whose durable row is behind their last acknowledged update."""
    with psycopg.connect(database_url) as conn:
        found = conn.execute(
            "SELECT job_id, sequence FROM progress.jobs WHERE job_id LIKE %s", (f"{prefix}-%",)
        ).fetchall()
    durable: dict[str, int] = {job: sequence for job, sequence in found}
    mine = {job: sequence for job, sequence in last_sequence.items() if job.startswith(f"{prefix}-")}
    return sum(1 for job, sequence in mine.items() if durable.get(job, 0) < sequence)


@dataclass(frozen=True)
class Latencies:
    from_schedule: list[float]
    from_send: list[float]
    failures: int
    seconds: float

    @property
    def rate(self) -> float:
        return len(self.from_schedule) / self.seconds


async def _paced_gets(address: str, job_ids: list[str], start_wall: float, rate: float, phase: float) -> Latencies:
    """This process's share of the load: `rate` req/s on a fixed timetable from `start_wall`."""
    channels = [grpc.aio.insecure_channel(address) for _ in range(CHANNELS)]
    stubs = [progress_pb2_grpc.ProgressServiceStub(c) for c in channels]
    for channel in channels:
        await channel.channel_ready()
    total = int(rate * GET_SECONDS)
    interval = 1.0 / rate
    from_schedule: list[float] = []
    from_send: list[float] = []
    failures = 0
    loop = asyncio.get_running_loop()
    start = loop.time() + (start_wall - time.time()) + phase * interval

    async def worker(offset: int) -> None:
        nonlocal failures
        for i in range(offset, total, GET_WORKERS):
            scheduled = start + i * interval
            delay = scheduled - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            request = progress_pb2.GetProgressRequest(job_id=job_ids[i % len(job_ids)])
            sent = loop.time()
            try:
                await stubs[i % CHANNELS].GetProgress(request, timeout=5)
            except grpc.aio.AioRpcError:
                failures += 1
                continue
            done = loop.time()
            from_schedule.append(done - scheduled)
            from_send.append(done - sent)

    try:
        await asyncio.gather(*(worker(w) for w in range(GET_WORKERS)))
    finally:
        for channel in channels:
            await channel.close(None)
    return Latencies(from_schedule, from_send, failures, loop.time() - start)


def _load_process(address: str, job_ids: list[str], start_wall: float, rate: float, phase: float) -> Latencies:
    """Entry point of one load-generating process (spawned: grpc does not survive fork)."""
    return asyncio.run(_paced_gets(address, job_ids, start_wall, rate, phase))


def _paced_gets_from_processes(process: ServiceProcess, job_ids: list[str]) -> tuple[Latencies, float]:
    """GET_RATE req/s split over LOAD_PROCESSES client processes; also service CPU per answered call."""
    cpu = psutil.Process(process.pid)
    share = GET_RATE / LOAD_PROCESSES
    start_wall = time.time() + 2.0  # time for the spawned processes to import and connect
    with ProcessPoolExecutor(LOAD_PROCESSES, mp_context=multiprocessing.get_context("spawn")) as pool:
        before = _cpu_seconds(cpu)
        futures = [
            pool.submit(_load_process, process.address, job_ids, start_wall, share, n / LOAD_PROCESSES)
            for n in range(LOAD_PROCESSES)
        ]
        parts = [f.result() for f in futures]
        used = _cpu_seconds(cpu) - before
    merged = Latencies(
        [v for p in parts for v in p.from_schedule],
        [v for p in parts for v in p.from_send],
        sum(p.failures for p in parts),
        max(p.seconds for p in parts),
    )
    return merged, used / max(1, len(merged.from_schedule))


def _peak_rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status")
    if status.exists():  # the kernel's high-water mark: exact, no sampling needed
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float(psutil.Process(pid).memory_info().rss) / 2**20


def _cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _row(name: str, value: str, ratio: str = "", target: str = "") -> None:
    print(f"  {name:<60}{value:>12}{ratio:>10}{target:>10}")


async def _run(database_url: str, redis_url: str, prefix: str, log_dir: Path) -> None:
    await migrate(database_url, "progress", MIGRATIONS)
    env = service_env(
        {
            "EDITAI_DATABASE_URL": database_url,
            "EDITAI_REDIS_URL": redis_url,
            "EDITAI_REDIS_PREFIX": prefix,
            "EDITAI_DATA_DIR": str(log_dir),
            "EDITAI_LOG_LEVEL": "WARNING",
            "EDITAI_PROGRESS_FLUSH_INTERVAL_MS": str(FLUSH_INTERVAL_MS),
        }
    )
    began = time.perf_counter()
    service = ServiceProcess("services.progress", env, log_dir).start()
    service_cpu = psutil.Process(service.pid)
    channels = [grpc.aio.insecure_channel(service.address) for _ in range(CHANNELS)]
    stubs = [progress_pb2_grpc.ProgressServiceStub(c) for c in channels]
    last_sequence: dict[str, int] = {}
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(
        f"{JOBS} concurrent jobs, {ROUND_SECONDS:.0f} s per measurement, flush interval {FLUSH_INTERVAL_MS} ms; "
        f"{os.cpu_count()} cores, load average {load}",
        flush=True,
    )
    try:
        sequential = await asyncio.to_thread(_sequential_naive_rate, database_url)
        async with AsyncConnectionPool(
            database_url, min_size=BASELINE_POOL, max_size=BASELINE_POOL, kwargs={"autocommit": True}, open=False
        ) as pool:
            await pool.wait()
            naive8 = await _naive_round(pool, "naive")
            batched = await _batched_upsert_rows_per_second(pool)
        cpu_before = _cpu_seconds(service_cpu)
        unary = await _unary_round(stubs, "unary", last_sequence)
        unary_cpu = (_cpu_seconds(service_cpu) - cpu_before) / unary.updates
        cpu_before = _cpu_seconds(service_cpu)
        coalesced = await _coalesced_round(stubs[0], "coalesced", last_sequence)
        coalesced_cpu = (_cpu_seconds(service_cpu) - cpu_before) / max(1, coalesced.acknowledged)
        await asyncio.sleep(FLUSH_INTERVAL_MS / 1000 + 0.05)  # one final flush interval (and its statement)
        capacity = await _batch_capacity_round(stubs, "capacity")
        lagging_unary = _lagging_jobs(database_url, last_sequence, "unary")
        lagging_coalesced = _lagging_jobs(database_url, last_sequence, "coalesced")
        gets, get_cpu = await asyncio.to_thread(_paced_gets_from_processes, service, list(last_sequence))
        peak_rss = _peak_rss_mib(service.pid)
    finally:
        for channel in channels:
            await channel.close(None)
        service.terminate()

    print()
    print(f"  {'durable progress updates':<60}{'value':>12}{'vs (a)':>10}{'target':>10}")
    _row("(a) naive: one upsert per update, ONE connection, /s", f"{sequential:.0f}", "1.0x")
    _row("(a') naive: the same over 8 pooled connections, /s", f"{naive8.rate:.0f}", f"{naive8.rate / sequential:.1f}x")
    _row("(b) service, unary UpdateProgress, /s", f"{unary.rate:.0f}", f"{unary.rate / sequential:.1f}x")
    _row("(c) service, BatchUpdateProgress via coalescer, acked /s", f"{coalesced.rate:.0f}",
         f"{coalesced.rate / sequential:.1f}x", ">= 10x")  # fmt: skip
    _row("    (c) vs (a')", "", f"{coalesced.rate / naive8.rate:.1f}x")
    _row("    (c) updates reported by the jobs, /s", f"{coalesced.reported / coalesced.seconds:.0f}")
    _row("    (c) batches sent, items per batch", f"{coalesced.batches}",
         f"{coalesced.acknowledged / max(1, coalesced.batches):.0f}")  # fmt: skip
    _row(f"(c') service capacity: 1,000-item batches back to back x{CAPACITY_SENDERS}, /s", f"{capacity.rate:.0f}",
         f"{capacity.rate / sequential:.1f}x")  # fmt: skip
    _row("durable path alone: batched upsert rows/s", f"{batched:.0f}", f"{batched / sequential:.1f}x")
    _row("service CPU per update, unary (us)", f"{unary_cpu * 1e6:.0f}")
    _row("service CPU per update, batched (us)", f"{coalesced_cpu * 1e6:.0f}")
    _row("jobs whose row lags their last ack, unary / batched", f"{lagging_unary} / {lagging_coalesced}", "", "0")
    print()
    heading = f"GetProgress, {GET_RATE} req/s paced from {LOAD_PROCESSES} processes, {GET_SECONDS:.0f} s"
    print(f"  {heading:<60}{'value':>12}{'':>10}{'target':>10}")
    _row("answered/s", f"{gets.rate:.0f}")
    _row("p50 from schedule (ms)", f"{_ms(gets.from_schedule, 0.5):.2f}")
    _row("p99 from schedule (ms)", f"{_ms(gets.from_schedule, 0.99):.2f}", "", "< 5")
    _row("p50 / p99 from send (ms)", f"{_ms(gets.from_send, 0.5):.2f} / {_ms(gets.from_send, 0.99):.2f}")
    _row("failures", f"{gets.failures}", "", "0")
    _row("service CPU per call (us)", f"{get_cpu * 1e6:.0f}")
    print()
    _row("service peak RSS (MiB)", f"{peak_rss:.1f}")
    _row("bench wall time (s)", f"{time.perf_counter() - began:.0f}", "", "< 90")
    print(f"  load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


def main() -> None:
    server_url = os.environ.get("EDITAI_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    redis_url = os.environ.get("EDITAI_REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = f"editai-bench-{uuid.uuid4().hex[:8]}:"
    database_url = create_database(server_url, prefix="editai_bench")
    try:
        with tempfile.TemporaryDirectory(prefix="editai-bench-progress-") as tmp:
            asyncio.run(_run(database_url, redis_url, prefix, Path(tmp)))
    finally:
        drop_database(database_url)
        client = redis.Redis.from_url(redis_url)
        try:
            keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
            if keys:
                client.delete(*keys)
        finally:
            client.close()


if __name__ == "__main__":
    main()
