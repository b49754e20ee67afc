"""Tiny generated media and probes for media tests (ffmpeg lavfi sources, PyAV)."""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import av

from editai_common.ffmpeg import run_ffmpeg


async def make_video(
    path: Path,
    *,
    seconds: float = 4.0,
    size: str = "320x240",
    rate: int = 25,
    source: str = "testsrc2",
    audio: str | None = "sine=frequency=440:sample_rate=48000",
) -> Path:
    """A short H.264 (+AAC) file from lavfi sources; `source` may be e.g. `color=c=0x3050a0`."""
    separator = ":" if "=" in source else "="
    video = f"{source}{separator}size={size}:rate={rate}:duration={seconds}"
    args: list[str | Path] = ["-f", "lavfi", "-i", video]
    if audio is not None:
        args += ["-f", "lavfi", "-i", f"{audio}:duration={seconds}"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    if audio is not None:
        args += ["-c:a", "aac", "-shortest"]
    os.makedirs(path.parent, exist_ok=True)
    await run_ffmpeg([*args, path], time_limit=60)
    return path


async def make_audio(path: Path, *, seconds: float = 3.0, expression: str = "0.05*sin(2*PI*300*t)") -> Path:
    """A mono WAV from an aevalsrc expression (quiet by default, so loudnorm must work)."""
    os.makedirs(path.parent, exist_ok=True)
    source = f"aevalsrc='{expression}':sample_rate=44100:duration={seconds}"
    await run_ffmpeg(["-f", "lavfi", "-i", source, "-c:a", "pcm_s16le", path], time_limit=60)
    return path


@dataclass(frozen=True)
class ProbedOutput:
    video_codec: str
    width: int
    height: int
    pix_fmt: str
    duration: float
    has_audio: bool
    audio_sample_rate: int


def probe_output(path: Path) -> ProbedOutput:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = next(iter(container.streams.audio), None)
        return ProbedOutput(
            video_codec=video.codec_context.name,
            width=video.codec_context.width,
            height=video.codec_context.height,
            pix_fmt=video.codec_context.pix_fmt or "",
            duration=(container.duration or 0) / 1_000_000,
            has_audio=audio is not None,
            audio_sample_rate=audio.codec_context.sample_rate if audio is not None else 0,
        )


def top_level_boxes(path: Path) -> list[str]:
    """Types of the top-level MP4 boxes in file order (ftyp, moov, mdat, …)."""
    boxes: list[str] = []
    with path.open("rb") as handle:
        while header := handle.read(8):
            if len(header) < 8:
                break
            size, kind = struct.unpack(">I4s", header)
            consumed = 8
            if size == 1:
                size = struct.unpack(">Q", handle.read(8))[0]
                consumed = 16
            boxes.append(kind.decode("latin-1"))
            if size == 0:
                break
            handle.seek(size - consumed, 1)
    return boxes


async def gray_crop(path: Path, *, at: float, x: int, y: int, width: int, height: int, workdir: Path) -> bytes:
    """Luma bytes of a rectangle of the frame shown at `at` seconds."""
    out = workdir / f"crop-{at:.2f}-{x}-{y}.gray"
    await run_ffmpeg(
        ["-ss", f"{at:.3f}", "-i", path, "-frames:v", "1", "-vf", f"crop={width}:{height}:{x}:{y},format=gray",
         "-f", "rawvideo", out],
        time_limit=30,
    )  # fmt: skip
    try:
        return out.read_bytes()
    finally:
        out.unlink(missing_ok=True)


def mean_abs_difference(a: bytes, b: bytes) -> float:
    assert len(a) == len(b) and a, "crops differ in size"
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)
