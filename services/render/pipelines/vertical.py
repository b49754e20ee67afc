"""A plain 1080x1920 transcode of one window of a source: the simple real ffmpeg step the
first pipeline versions share (the media pipelines replace it with the real look)."""

from __future__ import annotations

from pathlib import Path

from editai_common.ffmpeg import ProgressCallback, run_ffmpeg

VERTICAL_FILTER = "scale=1080:1920:force_original_aspect_ratio=decrease,pad=1080:1920:(ow-iw)/2:(oh-ih)/2,setsar=1"


async def transcode_vertical_window(
    source: Path,
    output: Path,
    *,
    start: float,
    duration: float,
    with_audio: bool,
    time_limit: float,
    on_progress: ProgressCallback | None = None,
) -> None:
    """Writes `duration` seconds of `source` from `start` as 1080x1920 H.264 (+AAC) MP4."""
    args: list[str | Path] = ["-ss", f"{start:.3f}", "-t", f"{duration:.3f}", "-i", source, "-vf", VERTICAL_FILTER]
    args += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", "-g", "60"]
    args += ["-c:a", "aac", "-b:a", "192k", "-ar", "48000"] if with_audio else ["-an"]
    args += ["-movflags", "+faststart", "-f", "mp4", output]
    await run_ffmpeg(args, time_limit=time_limit, expected_seconds=duration, on_progress=on_progress)


async def grab_thumbnail(source: Path, output: Path, *, at: float, time_limit: float) -> None:
    """One JPEG frame at `at` seconds, 540 px wide."""
    args: list[str | Path] = ["-ss", f"{at:.3f}", "-i", source, "-frames:v", "1", "-vf", "scale=540:-2"]
    await run_ffmpeg([*args, "-f", "image2", output], time_limit=time_limit)
