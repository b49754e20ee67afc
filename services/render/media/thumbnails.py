"""A small still per clip for the library grid."""

from __future__ import annotations

import asyncio
from pathlib import Path

from editai_common.ffmpeg import FfmpegFailed, run_ffmpeg

THUMBNAIL_WIDTH = 320


async def render_thumbnail(video: Path, output: Path, *, at_seconds: float = 0.0, time_limit: float = 30.0) -> None:
    """One JPEG frame, 320 px wide (height keeps the aspect, even), near `at_seconds`.

    Seeking past the last frame makes ffmpeg fail or write nothing; then the first
    frame is taken instead.
    """
    seeks = list(dict.fromkeys((max(0.0, at_seconds), 0.0)))
    for seek in seeks:
        args: list[str | Path] = ["-ss", f"{seek:.3f}", "-i", video, "-frames:v", "1"]
        args += ["-vf", f"scale={THUMBNAIL_WIDTH}:-2", "-q:v", "4", "-f", "image2", output]
        try:
            await run_ffmpeg(args, time_limit=time_limit)
        except FfmpegFailed:
            if seek == seeks[-1]:
                raise
            continue
        if await asyncio.to_thread(lambda: output.is_file() and output.stat().st_size > 0):
            return
