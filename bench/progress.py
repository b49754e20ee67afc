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
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
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
from services.progress.domain import JobStatus, ProgressRecord
from services.progress.server import MIGRATIONS
from tests.support.databases import create_database, drop_database
from tests.support.processes import ServiceProcess, service_env

JOBS = 1000
ROUNDS = 3
ROUND_SECONDS = 3.0
BASELINE_POOL = 8
CHANNELS = 4
GET_RATE = 2000
GET_SECONDS = 10.0
GET_WORKERS = 64
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
            for index in range(0, JOBS, 10):  # 100 jobs round robin, checking the clock between passes
                conn.execute(_NAIVE_UPSERT, (f"seq-{index}", _percentage(step), int(JobStatus.RUNNING), step))
                done += 1
        return done / (time.perf_counter() - start)


async def _service_round(
    stubs: list[progress_pb2_grpc.ProgressServiceStub], prefix: str, last_sequence: dict[str, int]
) -> Round:
    async def update(job_id: str, step: int, terminal: bool) -> None:
        reply = await stubs[step % CHANNELS].UpdateProgress(
            progress_pb2.UpdateProgressRequest(
                job_id=job_id,
                profile_id="bench",
                percentage=100.0 if terminal else _percentage(step),
                current_step="done" if terminal else "encoding",
                status=progress_pb2.JOB_STATUS_SUCCEEDED if terminal else progress_pb2.JOB_STATUS_RUNNING,
                fencing_token=1,
            ),
            timeout=30,
        )
        last_sequence[job_id] = reply.progress.sequence

    return await _drive_jobs(update, prefix, ROUND_SECONDS)


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


def _lagging_jobs(database_url: str, last_sequence: dict[str, int]) -> int:
    """Jobs whose durable row is behind their last acknowledged (terminal) update."""
    with psycopg.connect(database_url) as conn:
        found = conn.execute("SELECT job_id, sequence FROM progress.jobs WHERE job_id LIKE 'svc%'").fetchall()
    durable: dict[str, int] = {job: sequence for job, sequence in found}
    return sum(1 for job, sequence in last_sequence.items() if durable.get(job, 0) < sequence)


@dataclass(frozen=True)
class Latencies:
    from_schedule: list[float]
    from_send: list[float]
    failures: int
    seconds: float

    @property
    def rate(self) -> float:
        return len(self.from_schedule) / self.seconds


async def _paced_gets(stubs: list[progress_pb2_grpc.ProgressServiceStub], job_ids: list[str]) -> Latencies:
    total = int(GET_RATE * GET_SECONDS)
    interval = 1.0 / GET_RATE
    from_schedule: list[float] = []
    from_send: list[float] = []
    failures = 0
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.2

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

    await asyncio.gather(*(worker(w) for w in range(GET_WORKERS)))
    return Latencies(from_schedule, from_send, failures, loop.time() - start)


async def _paced_gets_on(process: ServiceProcess, job_ids: list[str]) -> tuple[Latencies, float]:
    """Paced GetProgress against one service process; also its CPU seconds per answered call."""
    cpu = psutil.Process(process.pid)
    channels = [grpc.aio.insecure_channel(process.address) for _ in range(CHANNELS)]
    try:
        for channel in channels:
            await channel.channel_ready()
        before = _cpu_seconds(cpu)
        gets = await _paced_gets([progress_pb2_grpc.ProgressServiceStub(c) for c in channels], job_ids)
        return gets, (_cpu_seconds(cpu) - before) / max(1, len(gets.from_schedule))
    finally:
        for channel in channels:
            await channel.close(None)


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


def _row(name: str, value: str, target: str = "") -> None:
    print(f"  {name:<52}{value:>14}{target:>12}")


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
    service = ServiceProcess("services.progress", env, log_dir).start()
    service_cpu = psutil.Process(service.pid)
    channels = [grpc.aio.insecure_channel(service.address) for _ in range(CHANNELS)]
    stubs = [progress_pb2_grpc.ProgressServiceStub(c) for c in channels]
    naive: list[Round] = []
    ours: list[Round] = []
    last_sequence: dict[str, int] = {}
    update_cpu = 0.0
    try:
        async with AsyncConnectionPool(
            database_url, min_size=BASELINE_POOL, max_size=BASELINE_POOL, kwargs={"autocommit": True}, open=False
        ) as pool:
            await pool.wait()
            print(f"{JOBS} concurrent jobs; {ROUNDS} alternating rounds of {ROUND_SECONDS:.0f} s; "
                  f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
            for n in range(ROUNDS):
                naive.append(await _naive_round(pool, f"naive{n}"))
                cpu_before = _cpu_seconds(service_cpu)
                ours.append(await _service_round(stubs, f"svc{n}", last_sequence))
                update_cpu += _cpu_seconds(service_cpu) - cpu_before
                print(f"  round {n + 1}: naive {naive[-1].rate:7.0f}/s   service {ours[-1].rate:7.0f}/s", flush=True)
            batched = await _batched_upsert_rows_per_second(pool)
        sequential = await asyncio.to_thread(_sequential_naive_rate, database_url)
        await asyncio.sleep(3 * FLUSH_INTERVAL_MS / 1000)
        lagging = _lagging_jobs(database_url, last_sequence)
        gets, get_cpu = await _paced_gets_on(service, list(last_sequence))
        peak_rss = _peak_rss_mib(service.pid)
    finally:
        for channel in channels:
            await channel.close(None)
        service.terminate()
    # The same reads from a process without the in-process read cache (every read asks Redis).
    uncached = ServiceProcess("services.progress", {**env, "EDITAI_PROGRESS_READ_CACHE_TTL_MS": "0"}, log_dir).start()
    try:
        gets_uncached, get_cpu_uncached = await _paced_gets_on(uncached, list(last_sequence))
    finally:
        uncached.terminate()

    naive_rate = statistics.median(r.rate for r in naive)
    our_rate = statistics.median(r.rate for r in ours)
    per_update_us = update_cpu / sum(r.updates for r in ours) * 1e6
    print()
    print(f"  {'measure':<52}{'value':>14}{'target':>12}")
    _row("durable updates/s, naive per-update upsert (median)", f"{naive_rate:.0f}")
    _row("durable updates/s, progress service (median)", f"{our_rate:.0f}")
    _row("ratio service / naive, end to end", f"{our_rate / naive_rate:.1f}x", ">= 10x")
    _row("naive, one blocking connection, updates/s", f"{sequential:.0f}")
    _row("ratio service / that", f"{our_rate / sequential:.1f}x", ">= 10x")
    _row("durable path alone: batched upsert rows/s", f"{batched:.0f}")
    _row("ratio durable path / naive", f"{batched / naive_rate:.1f}x", ">= 10x")
    _row("service CPU per update (us)", f"{per_update_us:.0f}")
    _row("jobs whose row lags their last ack", f"{lagging}", "0")
    print()
    heading = f"GetProgress, {GET_RATE} req/s offered for {GET_SECONDS:.0f} s"
    print(f"  {heading:<52}{'cache on':>14}{'cache off':>14}{'target':>12}")
    for name, on, off, target in (
        ("answered/s", gets.rate, gets_uncached.rate, ""),
        ("p50 from schedule (ms)", _ms(gets.from_schedule, 0.5), _ms(gets_uncached.from_schedule, 0.5), ""),
        ("p99 from schedule (ms)", _ms(gets.from_schedule, 0.99), _ms(gets_uncached.from_schedule, 0.99), "< 5"),
        ("p50 from send (ms)", _ms(gets.from_send, 0.5), _ms(gets_uncached.from_send, 0.5), ""),
        ("p99 from send (ms)", _ms(gets.from_send, 0.99), _ms(gets_uncached.from_send, 0.99), ""),
        ("failures", gets.failures, gets_uncached.failures, "0"),
        ("service CPU per call (us)", get_cpu * 1e6, get_cpu_uncached * 1e6, ""),
    ):
        print(f"  {name:<52}{on:>14.2f}{off:>14.2f}{target:>12}")
    print()
    _row("service peak RSS (MiB)", f"{peak_rss:.1f}")


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
