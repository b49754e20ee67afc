"""Pick distinct, lively windows of a source video with ffmpeg itself (no ML model).

One analysis pass decodes the source once at low resolution and frame rate and lets
ffmpeg measure every sampled frame: scene-change score and mean absolute frame
difference (`scdet`), luma/chroma averages and frame difference (`signalstats`) and
blur (`blurdetect`); `metadata=print` writes them to a file we parse.

A window scores high when it moves, has a cut or two, is sharp and is not black.
Each variant takes the best window from its own slice of the timeline, so variants
come from different parts of the video; windows whose colour signature is nearly
that of an already chosen one are skipped while another candidate remains.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from editai_common.ffmpeg import ProgressCallback, run_ffmpeg
from services.render.media.filtergraph import escape_path

ANALYSIS_FPS = 5
ANALYSIS_WIDTH = 160
CANDIDATES_PER_SLICE = 8
# Mean colour distance (0–255 scale) under which two windows look the same.
NEAR_DUPLICATE_DISTANCE = 4.0


@dataclass(frozen=True)
class FrameStats:
    time: float
    scene: float = 0.0  # scdet score, 0–100
    difference: float = 0.0  # signalstats YDIF, mean |ΔY| to the previous frame
    blur: float = 0.0  # blurdetect, higher is blurrier
    luma: float = 0.0  # YAVG
    chroma_u: float = 128.0
    chroma_v: float = 128.0
    saturation: float = 0.0


@dataclass(frozen=True)
class Window:
    start: float
    end: float
    score: float
    signature: tuple[float, ...] = field(default=(), compare=False)

    @property
    def duration(self) -> float:
        return self.end - self.start


_KEYS = {
    "lavfi.scd.score": "scene",
    "lavfi.signalstats.YDIF": "difference",
    "lavfi.blur": "blur",
    "lavfi.signalstats.YAVG": "luma",
    "lavfi.signalstats.UAVG": "chroma_u",
    "lavfi.signalstats.VAVG": "chroma_v",
    "lavfi.signalstats.SATAVG": "saturation",
}


def parse_metadata_print(text: str) -> list[FrameStats]:
    """Frames from `metadata=mode=print` output (`frame:N pts:… pts_time:T` + key=value lines)."""
    frames: list[FrameStats] = []
    current: dict[str, float] | None = None

    def flush() -> None:
        if current is not None and "time" in current:
            frames.append(FrameStats(**current))  # type: ignore[arg-type]

    for line in text.splitlines():
        line = line.strip()
        if line.startswith("frame:"):
            flush()
            current = {}
            for token in line.split():
                if token.startswith("pts_time:"):
                    with contextlib.suppress(ValueError):
                        current["time"] = float(token.split(":", 1)[1])
        elif current is not None and "=" in line:
            key, _, raw = line.partition("=")
            name = _KEYS.get(key)
            if name is not None:
                try:
                    value = float(raw)
                except ValueError:
                    continue
                if math.isfinite(value):
                    current[name] = value
    flush()
    return frames


async def analyse_frames(
    source: Path,
    workdir: Path,
    *,
    time_limit: float,
    duration: float = 0.0,
    on_progress: ProgressCallback | None = None,
) -> list[FrameStats]:
    """One low-resolution decode of `source` measuring every sampled frame."""
    report = workdir / "frame-stats.txt"
    graph = (
        f"fps={ANALYSIS_FPS},scale={ANALYSIS_WIDTH}:-2,scdet=threshold=100,signalstats,blurdetect,"
        f"metadata=mode=print:file={escape_path(report)}"
    )
    await run_ffmpeg(
        ["-i", source, "-an", "-sn", "-vf", graph, "-f", "null", "-"],
        time_limit=time_limit,
        expected_seconds=duration or None,
        on_progress=on_progress,
    )
    try:
        # An hour of video is ~700k lines: read and parse off the event loop.
        return await asyncio.to_thread(lambda: parse_metadata_print(report.read_text(errors="replace")))
    finally:
        report.unlink(missing_ok=True)


def _window_stats(
    frames: Sequence[FrameStats], times: Sequence[float], start: float, end: float
) -> tuple[float, tuple[float, ...]]:
    # Frames are in time order: slice by bisection, so an hour of video stays cheap.
    inside = frames[bisect.bisect_left(times, start) : bisect.bisect_left(times, end)]
    if not inside:
        return 0.0, ()
    count = len(inside)
    difference = sum(f.difference for f in inside) / count
    cuts = sum(1 for f in inside if f.scene >= 10.0)
    blur = sum(f.blur for f in inside) / count
    dark = sum(1 for f in inside if f.luma < 24 or f.luma > 235) / count
    # Saturating terms so one extreme frame cannot dominate a window.
    motion = difference / (difference + 8.0)
    cut_bonus = min(cuts, 3) / 3
    blur_penalty = blur / (blur + 6.0)
    score = motion + 0.5 * cut_bonus - 0.4 * blur_penalty - 1.0 * dark
    signature = (
        sum(f.luma for f in inside) / count,
        sum(f.chroma_u for f in inside) / count,
        sum(f.chroma_v for f in inside) / count,
        sum(f.saturation for f in inside) / count,
        difference,
    )
    return score, signature


def _distance(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    if not a or not b:
        return math.inf
    return math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) / len(a))


def window_length(source_duration: float, target_duration: float, variant_count: int) -> float:
    """About the target; with several variants of a short source, a little shorter so
    that their starts can still differ."""
    if variant_count > 1 and source_duration <= target_duration * 1.25:
        return min(target_duration, source_duration * 0.8)
    return min(target_duration, source_duration)


def pick_windows(
    frames: Sequence[FrameStats], *, source_duration: float, target_duration: float, variant_count: int
) -> list[Window]:
    """`variant_count` windows, each the best of its own slice of the timeline."""
    frames = sorted(frames, key=lambda f: f.time)
    times = [f.time for f in frames]
    length = window_length(source_duration, target_duration, variant_count)
    slack = max(0.0, source_duration - length)
    chosen: list[Window] = []
    for index in range(variant_count):
        low = slack * index / variant_count
        high = slack * (index + 1) / variant_count
        candidates: list[Window] = []
        for k in range(CANDIDATES_PER_SLICE):
            start = round(low + (high - low) * k / CANDIDATES_PER_SLICE, 3)
            score, signature = _window_stats(frames, times, start, start + length)
            candidates.append(Window(start, round(start + length, 3), score, signature))
        candidates.sort(key=lambda w: (-w.score, w.start))
        distinct = [
            c for c in candidates if all(_distance(c.signature, w.signature) >= NEAR_DUPLICATE_DISTANCE for w in chosen)
        ]
        chosen.append((distinct or candidates)[0])
    return chosen
