"""One job per project under a burst (DESIGN.md §7): 1,000 concurrent requests for a locked project.

The project already has its active job (the render replica runs no workers, so the job
stays queued and the project stays locked). Then, side by side, 1,000 concurrent calls
of each kind, all sent at once over 4 channels:
- GenerateRawClips on the locked project: every one must answer ABORTED / PROJECT_LOCKED
  (accepted must stay exactly the 1 that holds the lock); latency p50/p99 (target p99 < 50 ms);
- baseline: GetProject on the same project (a trivial read with the same caller checks).
Latency counts from the moment a call is issued to its answer, measured in this process.

`.venv/bin/python -m bench render_lock` — needs the machine's Postgres and Redis
(EDITAI_DATABASE_URL / EDITAI_REDIS_URL, defaulting to 127.0.0.1).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc

from bench._world import bench_world, percentile
from editai.render.v1 import render_pb2, render_pb2_grpc
from editai_common.errors import details_from_rpc_error
from tests.support.media import make_video
from tests.support.processes import ServiceProcess, service_env

REQUESTS = 1000
CHANNELS = 4
ROUNDS = 3
PROFILE = "bench"
METADATA = (("x-profile-id", PROFILE),)


BURST_SECONDS: dict[str, list[float]] = {"aborted": [], "get": []}


async def _burst(calls: list[Callable[[], Awaitable[object]]]) -> tuple[list[float], list[object]]:
    async def timed(call: Callable[[], Awaitable[object]]) -> tuple[float, object]:
        started = time.perf_counter()
        try:
            answer: object = await call()
        except grpc.aio.AioRpcError as error:
            answer = details_from_rpc_error(error)
        return time.perf_counter() - started, answer

    results = await asyncio.gather(*(timed(c) for c in calls))
    return [r[0] * 1000 for r in results], [r[1] for r in results]


async def _run(address: str, data_dir: Path) -> None:
    key = "uploads/bench.mp4"
    (data_dir / "media" / "uploads").mkdir(parents=True, exist_ok=True)
    await make_video(data_dir / "media" / key, seconds=1)
    channels = [grpc.aio.insecure_channel(address) for _ in range(CHANNELS)]
    stubs = [render_pb2_grpc.RenderServiceStub(c) for c in channels]
    try:
        project = (await stubs[0].CreateProject(render_pb2.CreateProjectRequest(name="bench"), metadata=METADATA,
                                                timeout=10)).project  # fmt: skip
        holder = (await stubs[0].GenerateRawClips(
            render_pb2.GenerateRawClipsRequest(project_id=project.id, video_key=key, variant_count=1),
            metadata=METADATA, timeout=10,
        )).job  # fmt: skip
        locked = render_pb2.GenerateRawClipsRequest(project_id=project.id, video_key=key, variant_count=1)
        read = render_pb2.GetProjectRequest(project_id=project.id)

        def generate(i: int) -> Callable[[], Awaitable[object]]:
            return lambda: stubs[i % CHANNELS].GenerateRawClips(locked, metadata=METADATA, timeout=30)

        def get(i: int) -> Callable[[], Awaitable[object]]:
            return lambda: stubs[i % CHANNELS].GetProject(read, metadata=METADATA, timeout=30)

        await _burst([get(i) for i in range(200)])  # warm-up: connections, pools, caches
        await _burst([generate(i) for i in range(200)])
        # One at a time: the cost of one answer without queueing.
        alone_aborted = [(await _burst([generate(0)]))[0][0] for _ in range(200)]
        alone_get = [(await _burst([get(0)]))[0][0] for _ in range(200)]
        aborted_ms: list[float] = []
        baseline_ms: list[float] = []
        accepted = 1  # the job holding the lock
        wrong: list[object] = []
        print(f"{REQUESTS} concurrent calls x {ROUNDS} rounds over {CHANNELS} channels; "
              f"machine: {os.cpu_count()} cores", flush=True)  # fmt: skip
        for round_no in range(ROUNDS):
            began = time.perf_counter()
            latencies, answers = await _burst([generate(i) for i in range(REQUESTS)])
            BURST_SECONDS["aborted"].append(time.perf_counter() - began)
            for latency, answer in zip(latencies, answers, strict=True):
                if hasattr(answer, "job"):
                    accepted += 1
                elif getattr(answer, "reason", "") == "PROJECT_LOCKED" and answer.metadata.get("job_id") == holder.id:  # type: ignore[attr-defined]
                    aborted_ms.append(latency)
                else:
                    wrong.append(answer)
            began = time.perf_counter()
            base, _ = await _burst([get(i) for i in range(REQUESTS)])
            BURST_SECONDS["get"].append(time.perf_counter() - began)
            baseline_ms.extend(base)
            print(f"  round {round_no + 1}: ABORTED p50 {statistics.median(latencies):6.1f} ms, "
                  f"p99 {percentile(latencies, 0.99):6.1f} ms | GetProject p50 {statistics.median(base):6.1f} ms, "
                  f"p99 {percentile(base, 0.99):6.1f} ms", flush=True)  # fmt: skip
    finally:
        for channel in channels:
            await channel.close(None)

    print()
    print(f"{'measure':<52}{'value':>12}{'target':>12}")
    print(f"{'accepted (the lock holder included)':<52}{accepted:>12d}{'1':>12}")
    print(f"{'ABORTED / PROJECT_LOCKED naming the running job':<52}{len(aborted_ms):>12d}{REQUESTS * ROUNDS:>12d}")
    print(f"{'other answers':<52}{len(wrong):>12d}{'0':>12}")
    print(f"{'ABORTED p50 (ms)':<52}{statistics.median(aborted_ms):>12.1f}{'':>12}")
    print(f"{'ABORTED p99 (ms)':<52}{percentile(aborted_ms, 0.99):>12.1f}{'< 50':>12}")
    print(f"{'baseline GetProject p50 (ms)':<52}{statistics.median(baseline_ms):>12.1f}{'':>12}")
    print(f"{'baseline GetProject p99 (ms)':<52}{percentile(baseline_ms, 0.99):>12.1f}{'':>12}")
    print(
        f"{'one at a time: ABORTED p50 / p99 (ms)':<52}"
        f"{statistics.median(alone_aborted):>6.1f}/{percentile(alone_aborted, 0.99):<5.1f}{'':>12}"
    )
    print(f"{'one at a time: GetProject p50 / p99 (ms)':<52}"
          f"{statistics.median(alone_get):>6.1f}/{percentile(alone_get, 0.99):<5.1f}{'':>12}")  # fmt: skip
    for name, label in (("aborted", "ABORTED"), ("get", "GetProject")):
        rate = REQUESTS / statistics.median(BURST_SECONDS[name])
        print(f"{f'burst throughput, {label} (answers/s)':<52}{rate:>12.0f}{'':>12}")
    print(f"{'ratio ABORTED p99 / GetProject p99':<52}"
          f"{percentile(aborted_ms, 0.99) / percentile(baseline_ms, 0.99):>11.2f}x{'':>12}")  # fmt: skip
    if wrong:
        print(f"first unexpected answer: {wrong[0]}")


def main() -> None:
    with bench_world() as world, tempfile.TemporaryDirectory(prefix="editai-bench-render-") as tmp:
        data_dir = Path(tmp)
        env = service_env({
            "EDITAI_DATABASE_URL": world.database_url, "EDITAI_REDIS_URL": world.redis_url,
            "EDITAI_REDIS_PREFIX": world.redis_prefix, "EDITAI_DATA_DIR": str(data_dir), "EDITAI_AUTH": "dev",
            "EDITAI_LOG_LEVEL": "WARNING", "EDITAI_RENDER_WORKERS": "0", "EDITAI_RENDER_METRICS_PORT": "0",
            "EDITAI_PROGRESS_METRICS_PORT": "0",
        })  # fmt: skip
        progress = ServiceProcess("services.progress", env, data_dir).start()
        render = ServiceProcess("services.render", {**env, "EDITAI_PROGRESS_ADDR": progress.address},
                                data_dir).start()  # fmt: skip
        try:
            asyncio.run(_run(render.address, data_dir))
        finally:
            render.terminate()
            progress.terminate()


if __name__ == "__main__":
    main()
