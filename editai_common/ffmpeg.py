"""ffmpeg as an asyncio subprocess, and media probing with PyAV.

Every media step in EditAI runs through `run_ffmpeg`: it never blocks the event
loop, reports progress from ffmpeg's `-progress` output, enforces a timeout, and
kills ffmpeg when the awaiting task is cancelled (cancel is real, guarantee 6).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from editai_common.errors import DeadlineExceeded, InvalidArgument
from editai_common.metrics import observe_ffmpeg

log = logging.getLogger("editai.ffmpeg")

ProgressCallback = Callable[[float], Awaitable[None]]
"""Called with the fraction done (0.0–1.0) whenever ffmpeg reports progress."""

_STDERR_LIMIT = 2 * 1024 * 1024
KILL_GRACE_SECONDS = 0.5


# ffmpeg must die with the worker that started it: a SIGKILLed worker cannot stop
# its ffmpeg, which would otherwise encode on until its time limit for a job another
# worker already took over. PR_SET_PDEATHSIG does that, but setting it needs code
# between fork and exec, and a preexec_fn in a process that runs gRPC aborts the
# child in gRPC's fork handlers. So a tiny interpreter sets it and execs ffmpeg
# (same pid, ~10 ms); it exits if the worker died before the flag was set.
_EXEC_WITH_PDEATHSIG = (
    "import ctypes,os,signal,sys\n"
    "ctypes.CDLL(None).prctl(1, signal.SIGKILL)\n"
    "if os.getppid() != int(sys.argv[1]): sys.exit(137)\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


def _launch_prefix() -> list[str]:
    if sys.platform.startswith("linux"):
        return [sys.executable, "-S", "-c", _EXEC_WITH_PDEATHSIG, str(os.getpid())]
    return []


@cache
def ffmpeg_executable() -> str:
    """ffmpeg from PATH, else the static build shipped by imageio-ffmpeg."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


class FfmpegFailed(Exception):
    """ffmpeg exited non-zero; `stderr_tail` holds its last lines for the log."""

    def __init__(self, returncode: int, stderr_tail: str) -> None:
        super().__init__(f"ffmpeg exited with {returncode}: {stderr_tail[-500:]}")
        self.returncode = returncode
        self.stderr_tail = stderr_tail


@dataclass(frozen=True)
class FfmpegRun:
    stderr: str
    seconds: float


async def _stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM, then SIGKILL after a short grace, so a cancel lands well within 2 s."""
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), KILL_GRACE_SECONDS)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


async def _read_progress(
    stream: asyncio.StreamReader, expected_seconds: float | None, on_progress: ProgressCallback | None
) -> None:
    async for raw in stream:
        if on_progress is None or not expected_seconds:
            continue
        line = raw.decode(errors="replace").strip()
        if line.startswith("out_time_us=") or line.startswith("out_time_ms="):
            value = line.split("=", 1)[1]
            if value.isdigit():
                done = int(value) / 1_000_000
                await on_progress(max(0.0, min(1.0, done / expected_seconds)))


async def _read_stderr(stream: asyncio.StreamReader, sink: bytearray) -> None:
    while chunk := await stream.read(65536):
        sink.extend(chunk)
        if len(sink) > _STDERR_LIMIT:
            del sink[: len(sink) - _STDERR_LIMIT]


async def run_ffmpeg(
    args: Sequence[str | Path],
    *,
    time_limit: float,
    expected_seconds: float | None = None,
    on_progress: ProgressCallback | None = None,
    loglevel: str = "error",
    operation: str = "ffmpeg",
) -> FfmpegRun:
    """Runs `ffmpeg <args>`; raises FfmpegFailed, DeadlineExceeded, or CancelledError.

    `time_limit` bounds the run in seconds (take it from the job or RPC deadline).

    `expected_seconds` is the output duration the progress fraction is measured against.

    `operation` names the run in the `editai_ffmpeg_seconds{operation, outcome}` metric.
    """
    with observe_ffmpeg(operation):
        return await _run_ffmpeg(args, time_limit, expected_seconds, on_progress, loglevel)


async def _run_ffmpeg(
    args: Sequence[str | Path],
    time_limit: float,
    expected_seconds: float | None,
    on_progress: ProgressCallback | None,
    loglevel: str,
) -> FfmpegRun:
    command = [
        ffmpeg_executable(),
        "-hide_banner",
        "-nostdin",
        "-y",
        "-loglevel",
        loglevel,
        "-progress",
        "pipe:1",
        "-nostats",
        *map(str, args),
    ]
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        *_launch_prefix(),
        *command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stderr = bytearray()
    assert process.stdout is not None and process.stderr is not None
    readers = asyncio.gather(
        _read_progress(process.stdout, expected_seconds, on_progress),
        _read_stderr(process.stderr, stderr),
    )
    try:
        async with asyncio.timeout(time_limit):
            await readers
            returncode = await process.wait()
    except TimeoutError:
        await _stop(process)
        raise DeadlineExceeded(f"ffmpeg did not finish within {time_limit:.0f} s.", reason="FFMPEG_TIMEOUT") from None
    finally:
        # Cancellation (a cancelled job, a cancelled RPC) lands here too.
        await _stop(process)
        readers.cancel()
    text = stderr.decode(errors="replace")
    if returncode != 0:
        raise FfmpegFailed(returncode, text)
    return FfmpegRun(stderr=text, seconds=time.monotonic() - started)


@dataclass(frozen=True)
class MediaInfo:
    duration_seconds: float
    has_video: bool
    has_audio: bool
    width: int = 0
    height: int = 0
    rotation: int = 0
    video_codec: str = ""
    audio_codec: str = ""
    sample_rate: int = 0
    format_name: str = ""


def _probe_sync(path: Path) -> MediaInfo:
    import av

    if not path.is_file() or path.stat().st_size == 0:
        raise InvalidArgument("The file is empty or missing.", reason="UNSUPPORTED_MEDIA")

    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            video = next(iter(container.streams.video), None)
            audio = next(iter(container.streams.audio), None)
            duration = 0.0
            if container.duration:
                duration = container.duration / 1_000_000
            elif video is not None and video.duration and video.time_base:
                duration = float(video.duration * video.time_base)
            rotation = 0
            if video is not None:
                rotation = _rotation_of(video)
            return MediaInfo(
                duration_seconds=round(duration, 3),
                has_video=video is not None,
                has_audio=audio is not None,
                width=video.codec_context.width if video is not None else 0,
                height=video.codec_context.height if video is not None else 0,
                rotation=rotation,
                video_codec=video.codec_context.name if video is not None else "",
                audio_codec=audio.codec_context.name if audio is not None else "",
                sample_rate=audio.codec_context.sample_rate if audio is not None else 0,
                format_name=container.format.name,
            )
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as error:
        raise InvalidArgument(
            f"The file is not a readable audio or video file ({error.__class__.__name__}).",
            reason="UNSUPPORTED_MEDIA",
        ) from None


def _rotation_of(stream: object) -> int:
    # PyAV exposes the display matrix rotation on decoded frames only; the
    # legacy "rotate" tag covers most phone files and costs no decode.
    metadata = getattr(stream, "metadata", {}) or {}
    raw = metadata.get("rotate")
    try:
        return int(raw) % 360 if raw is not None else 0
    except ValueError:
        return 0


async def probe_media(path: Path) -> MediaInfo:
    """Probe a file in a worker thread; a non-media file raises UNSUPPORTED_MEDIA."""
    return await asyncio.to_thread(_probe_sync, path)
