"""A small still per clip for the library grid."""

from __future__ import annotations

from pathlib import Path

from editai_common.ffmpeg import run_ffmpeg

THUMBNAIL_WIDTH = 320


async def render_thumbnail(video: Path, output: Path, *, at_seconds: float = 0.0, time_limit: float = 30.0) -> None:
    """One JPEG frame, 320 px wide (height keeps the aspect, even), near `at_seconds`."""
    await run_ffmpeg(
        [
            "-ss", f"{max(0.0, at_seconds):.3f}", "-i", video,
            "-frames:v", "1", "-vf", f"scale={THUMBNAIL_WIDTH}:-2", "-q:v", "4", "-f", "image2", output,
        ],
        time_limit=time_limit,
    )  # fmt: skip
