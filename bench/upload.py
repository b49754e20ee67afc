"""Upload ingest through the gateway (DESIGN.md §7), side by side with a raw loopback copy.

1. Throughput of a 1 GiB multipart upload through the real gateway process (streamed
   multipart parsing, counting, sniffing, atomic write into the media store, then one
   CreateSourceVideo call to a stub render) against a baseline: a minimal asyncio
   socket sink in its own process that copies the same bytes from the socket into a
   file in the same folder. The same raw-socket client sends both, in alternating
   rounds (A B A B …, medians) so a busy machine hits both alike. Target ≥ 0.8×.
2. The gateway's peak RSS during the uploads (VmHWM, and the sampled RSS growth):
   memory must stay flat whatever the size.
3. Time to 413 for a declared Content-Length over the limit: 100 tries, p50/p99,
   from sending the headers to the first byte of the answer (target < 20 ms).

`.venv/bin/python -m bench upload` — needs Redis (EDITAI_REDIS_URL, default
127.0.0.1:6379) for the gateway's rate limiter; writes ~1 GiB at a time under a
temporary folder, removed afterwards.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psutil

from bench._world import percentile
from editai.render.v1 import render_pb2
from tests.gateway_support.scripted_render import ScriptedRender, scripted_render
from tests.support.processes import ServiceProcess, service_env

MIB = 1024 * 1024
UPLOAD_BYTES = 1024 * MIB
CHUNK = 1 * MIB
ROUNDS = 5
TOO_LARGE_TRIES = 100
LIMIT_MIB = 2048  # the gateway's EDITAI_MAX_UPLOAD_MB here, so a 1 GiB upload passes
DECLARED_TOO_LARGE = (LIMIT_MIB + 512) * MIB

# The baseline: read the socket, write a file, answer 201. Nothing else.
SINK = r"""
import asyncio, os, sys, uuid
folder = sys.argv[1]

async def handle(reader, writer):
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length"))
    path = os.path.join(folder, uuid.uuid4().hex + ".bin")
    with open(path, "wb", buffering=1 << 20) as out:
        while length > 0:
            data = await reader.read(min(length, 1 << 20))
            if not data:
                break
            out.write(data)
            length -= len(data)
    writer.write(b"HTTP/1.1 201 Created\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
    await writer.drain()
    writer.close()

async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()

asyncio.run(main())
"""


def multipart_parts(boundary: str) -> tuple[bytes, bytes]:
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="video"; filename="big.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    return head, f"\r\n--{boundary}--\r\n".encode()


async def send_upload(port: int, path: str, size: int = UPLOAD_BYTES) -> float:
    """Sends a multipart body of `size` bytes on a raw socket; seconds until the answer's status line."""
    boundary = uuid.uuid4().hex
    head, tail = multipart_parts(boundary)
    mp4_head = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
    file_bytes = size - len(head) - len(tail)
    length = len(head) + file_bytes + len(tail)
    chunk = mp4_head + b"\x00" * (CHUNK - len(mp4_head))
    filler = memoryview(b"\x00" * CHUNK)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Length: {length}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n\r\n"
    ).encode()
    started = time.perf_counter()
    writer.write(request + head)
    left = file_bytes
    first = True
    while left > 0:
        piece = (chunk if first else filler)[: min(CHUNK, left)]
        first = False
        writer.write(piece)
        left -= len(piece)
        await writer.drain()
    writer.write(tail)
    await writer.drain()
    status = await reader.readline()
    elapsed = time.perf_counter() - started
    writer.close()
    if b" 201 " not in status:
        raise RuntimeError(f"upload answered {status!r}: {await reader.read(2000)!r}")
    return elapsed


async def time_to_413(port: int) -> float:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = (
        f"POST /api/v1/jobs HTTP/1.1\r\nHost: bench\r\nContent-Length: {DECLARED_TOO_LARGE}\r\n"
        "Content-Type: multipart/form-data; boundary=x\r\n\r\n--x\r\n"
    ).encode()
    started = time.perf_counter()
    writer.write(request)
    await writer.drain()
    status = await asyncio.wait_for(reader.readline(), 10)
    elapsed = time.perf_counter() - started
    writer.close()
    if b" 413 " not in status:
        raise RuntimeError(f"expected 413, got {status!r}")
    return elapsed


def peak_rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(psutil.Process(pid).memory_info().rss)


async def sampled_rss_growth(pid: int, work: asyncio.Future[Any]) -> int:
    process = psutil.Process(pid)
    before = peak = process.memory_info().rss
    while not work.done():
        peak = max(peak, process.memory_info().rss)
        await asyncio.sleep(0.05)
    return peak - before


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def user_cpu_seconds(pid: int) -> float:
    return float(psutil.Process(pid).cpu_times().user)


def seconds(values: list[float]) -> str:
    return " ".join(f"{t:.2f}s" for t in values)


async def run(folder: Path, render: ScriptedRender) -> None:
    render.reply(
        "CreateSourceVideo",
        render_pb2.CreateSourceVideoResponse(source_video=render_pb2.SourceVideo(id="v", width=1, height=1)),
    )
    data_dir = folder / "data"
    data_dir.mkdir()
    env = service_env(
        {
            "EDITAI_DATABASE_URL": "postgresql://unused",
            "EDITAI_REDIS_URL": os.environ.get("EDITAI_REDIS_URL", "redis://127.0.0.1:6379/0"),
            "EDITAI_REDIS_PREFIX": f"bench-upload-{uuid.uuid4().hex[:8]}:",
            "EDITAI_DATA_DIR": str(data_dir),
            "EDITAI_AUTH": "dev",
            "EDITAI_LOG_LEVEL": "WARNING",
            "EDITAI_MAX_UPLOAD_MB": str(LIMIT_MIB),
            "EDITAI_RENDER_ADDR": render.address,
        }
    )
    log_dir = folder / "logs"
    log_dir.mkdir()
    gateway = ServiceProcess("services.gateway", env, log_dir).start()
    sink_dir = folder / "sink"
    sink_dir.mkdir()
    sink = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SINK, str(sink_dir), stdout=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL
    )
    try:
        assert sink.stdout is not None
        sink_port = int(await sink.stdout.readline())
        media = data_dir / "media"
        gateway_times: list[float] = []
        baseline_times: list[float] = []
        growth = 0
        baseline_cpu: list[float] = []
        gateway_cpu: list[float] = []
        gateway_user: list[float] = []
        # Warm-up (thread pools, page cache, first-request imports), not counted.
        await send_upload(sink_port, "/upload", 64 * MIB)
        await send_upload(gateway.port, "/api/v1/segments/source-videos", 64 * MIB)
        for stored in [*media.rglob("*.mp4"), *sink_dir.glob("*.bin")]:
            stored.unlink()
        for _ in range(ROUNDS):
            sink_cpu = cpu_seconds(sink.pid)
            baseline_times.append(await send_upload(sink_port, "/upload"))
            baseline_cpu.append(cpu_seconds(sink.pid) - sink_cpu)
            gateway_cpu_before = cpu_seconds(gateway.pid)
            gateway_user_before = user_cpu_seconds(gateway.pid)
            upload = asyncio.ensure_future(send_upload(gateway.port, "/api/v1/segments/source-videos"))
            growth = max(growth, await sampled_rss_growth(gateway.pid, upload))
            gateway_times.append(await upload)
            gateway_cpu.append(cpu_seconds(gateway.pid) - gateway_cpu_before)
            gateway_user.append(user_cpu_seconds(gateway.pid) - gateway_user_before)
            # Both copies are deleted by the bench after each round, so both pay the same writeback.
            for stored in [*media.rglob("*.mp4"), *sink_dir.glob("*.bin")]:
                stored.unlink()
        gib = UPLOAD_BYTES / MIB
        base = gib / statistics.median(baseline_times)
        through = gib / statistics.median(gateway_times)
        print(f"upload {UPLOAD_BYTES // MIB} MiB, {ROUNDS} alternating rounds (medians):")
        print(f"  raw loopback copy (asyncio socket → file) {base:8.1f} MiB/s   rounds {seconds(baseline_times)}")
        print(f"  through the gateway (multipart → store)   {through:8.1f} MiB/s   rounds {seconds(gateway_times)}")
        print(f"  ratio gateway / raw copy                  {through / base:8.2f}x   (target ≥ 0.80x)")
        # Page-cache writeback of the previous round's GiB lands on whichever round runs next:
        # the best rounds show what each path can do when the kernel is not in the way.
        best = min(baseline_times) / min(gateway_times)
        print(f"  ratio of the best rounds                  {best:8.2f}x")
        print(f"  gateway peak RSS (VmHWM)                  {peak_rss(gateway.pid) / MIB:8.1f} MiB")
        print(f"  gateway RSS growth during an upload       {growth / MIB:8.1f} MiB")
        # CPU per GiB barely depends on how busy the machine is, unlike wall time.
        print(
            f"  CPU seconds per GiB (process, median)     raw copy {statistics.median(baseline_cpu):.2f} s, "
            f"gateway {statistics.median(gateway_cpu):.2f} s (write thread included; "
            f"Python/user {statistics.median(gateway_user):.2f} s, the rest is the kernel's socket and page cache)"
        )
        print(f"  machine load average during the run       {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")

        times = [await time_to_413(gateway.port) for _ in range(TOO_LARGE_TRIES)]
        ms = [t * 1000 for t in times]
        print(
            f"413 for a declared Content-Length of {DECLARED_TOO_LARGE // MIB} MiB (limit {LIMIT_MIB} MiB), "
            f"{TOO_LARGE_TRIES} tries (target < 20 ms):"
        )
        print(f"  p50 {percentile(ms, 0.5):.2f} ms   p99 {percentile(ms, 0.99):.2f} ms   max {max(ms):.2f} ms")
        leftovers = [p for p in media.rglob("*") if p.is_file()]
        print(f"  files left in the media store: {len(leftovers)}")
    finally:
        sink.kill()
        await sink.wait()
        gateway.terminate()


async def amain() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-upload-", dir=os.environ.get("EDITAI_BENCH_DIR")) as folder:
        async with scripted_render() as render:
            await run(Path(folder), render)


def main() -> None:
    asyncio.run(amain())


if __name__ == "__main__":
    main()
