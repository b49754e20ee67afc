"""ffmpeg work on speech audio: find silences, cut the kept regions, measure duration.

Every run goes through `editai_common.ffmpeg.run_ffmpeg` (an asyncio subprocess,
killed on cancel or timeout); the arithmetic lives in `trimming.py`.
"""

from __future__ import annotations

import time
from pathlib import Path

from editai_common.errors import DeadlineExceeded
from editai_common.ffmpeg import FfmpegFailed, probe_media, run_ffmpeg
from services.tts.errors import LocalEngineFailed
from services.tts.trimming import Span, TrimOptions, TrimPlan, parse_silencedetect, plan_trim

# Same codec family as the input, so trimming never changes what the caller gets.
_ENCODER_ARGS: dict[str, list[str]] = {
    "mp3": ["-c:a", "libmp3lame", "-b:a", "128k"],
    "wav": ["-c:a", "pcm_s16le"],
}


def _time_limit(deadline: float) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise DeadlineExceeded("The call's deadline passed before the audio was processed.")
    return remaining


async def measure_duration(path: Path) -> float:
    return (await probe_media(path)).duration_seconds


async def detect_silences(
    path: Path, duration: float, *, min_silence: float, noise_db: float, deadline: float
) -> list[Span]:
    """Silences at least `min_silence` long, quieter than `noise_db`, in audio `duration` long."""
    try:
        run = await run_ffmpeg(
            ["-i", path, "-af", f"silencedetect=noise={noise_db}dB:d={min_silence}", "-f", "null", "-"],
            time_limit=_time_limit(deadline),
            loglevel="info",  # silencedetect reports at info level
            operation="tts_silencedetect",
        )
    except FfmpegFailed as error:
        raise LocalEngineFailed("ffmpeg could not read the synthesized audio.") from error
    return parse_silencedetect(run.stderr, duration)


async def plan_for(path: Path, duration: float, options: TrimOptions, *, noise_db: float, deadline: float) -> TrimPlan:
    silences = await detect_silences(
        path, duration, min_silence=options.min_silence, noise_db=noise_db, deadline=deadline
    )
    return plan_trim(silences, duration, options)


def concat_filter(regions: tuple[Span, ...]) -> str:
    """atrim is sample-exact (aselect would cut at frame edges, ~26 ms for mp3)."""
    parts = [
        f"[0:a]atrim=start={region.start:.6f}:end={region.end:.6f},asetpts=PTS-STARTPTS[r{i}]"
        for i, region in enumerate(regions)
    ]
    inputs = "".join(f"[r{i}]" for i in range(len(regions)))
    parts.append(f"{inputs}concat=n={len(regions)}:v=0:a=1[out]")
    return ";".join(parts)


async def cut_regions(source: Path, target: Path, plan: TrimPlan, *, extension: str, deadline: float) -> None:
    """Writes the kept regions of `source`, joined, to `target` in the same format."""
    try:
        await run_ffmpeg(
            [
                "-i",
                source,
                "-filter_complex",
                concat_filter(plan.kept),
                "-map",
                "[out]",
                *_ENCODER_ARGS[extension],
                "-f",
                extension,
                target,
            ],
            time_limit=_time_limit(deadline),
            expected_seconds=plan.new_duration,
            operation="tts_trim",
        )
    except FfmpegFailed as error:
        raise LocalEngineFailed("ffmpeg could not cut the silences out of the audio.") from error
