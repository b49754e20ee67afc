"""run_ffmpeg's process hygiene: ffmpeg never outlives the task or the process that runs it."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time

import psutil

from editai_common.ffmpeg import run_ffmpeg
from tests.support.processes import ROOT

ENDLESS = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "600", "-f", "null", "-"]

RUNNER = """
import asyncio, os, sys
from editai_common.ffmpeg import run_ffmpeg
async def main():
    task = asyncio.create_task(run_ffmpeg(%r, time_limit=600))
    await asyncio.sleep(0.5)
    print(os.getpid(), flush=True)
    await task
asyncio.run(main())
"""


def _ffmpeg_children(pid: int) -> list[psutil.Process]:
    return [p for p in psutil.Process(pid).children(recursive=True) if "ffmpeg" in p.name()]


async def test_cancelling_the_task_kills_ffmpeg_at_once() -> None:
    """Guarantee 6 (cancel is real) at its root: the awaiting task's cancel stops ffmpeg."""
    import os

    task = asyncio.create_task(run_ffmpeg(ENDLESS, time_limit=600))
    await asyncio.sleep(0.5)
    children = _ffmpeg_children(os.getpid())
    assert children, "ffmpeg should be running"

    started = time.monotonic()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    _, alive = psutil.wait_procs(children, timeout=2)
    assert alive == [] and time.monotonic() - started < 2


def test_ffmpeg_dies_with_a_sigkilled_worker() -> None:
    """Guarantee 5/6: a worker killed with SIGKILL leaves no ffmpeg burning CPU behind."""
    worker = subprocess.Popen(
        [sys.executable, "-c", RUNNER % (ENDLESS,)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert worker.stdout is not None
        worker.stdout.readline()
        children = _ffmpeg_children(worker.pid)
        assert children, "ffmpeg should be running under the worker"

        worker.kill()
        worker.wait(10)

        _, alive = psutil.wait_procs(children, timeout=2)
        assert alive == []
    finally:
        if worker.poll() is None:
            worker.kill()
        if worker.stdout is not None:
            worker.stdout.close()
