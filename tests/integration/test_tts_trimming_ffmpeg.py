"""Silence trimming on real audio: a synthetic track with known pauses (lavfi sine and
anullsrc) is cut, and the removed time and remapped timings match within 20 ms."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from editai_common.ffmpeg import probe_media, run_ffmpeg
from services.tts import audio
from services.tts.timings import CharacterTiming
from services.tts.trimming import TrimOptions

TOLERANCE = 0.02
# tone 1.0 s | silence 1.0 s | tone 0.5 s | silence 0.2 s (short: kept) | tone 0.8 s | silence 0.6 s
LAYOUT = [("tone", 1.0), ("silence", 1.0), ("tone", 0.5), ("silence", 0.2), ("tone", 0.8), ("silence", 0.6)]
OPTIONS = TrimOptions(min_silence=0.3, padding=0.08)


async def make_track(path: Path) -> None:
    inputs: list[str] = []
    for kind, seconds in LAYOUT:
        source = "sine=frequency=330:sample_rate=44100" if kind == "tone" else "anullsrc=r=44100:cl=mono"
        inputs += ["-f", "lavfi", "-t", str(seconds), "-i", source]
    joined = "".join(f"[{i}:a]" for i in range(len(LAYOUT)))
    await run_ffmpeg(
        [*inputs, "-filter_complex", f"{joined}concat=n={len(LAYOUT)}:v=0:a=1[a]", "-map", "[a]", "-ac", "1", path],
        time_limit=30,
    )


async def silences_in(path: Path) -> list[tuple[float, float]]:
    run = await run_ffmpeg(
        ["-i", path, "-af", "silencedetect=noise=-40dB:d=0.1", "-f", "null", "-"], time_limit=30, loglevel="info"
    )
    starts = [float(x) for x in re.findall(r"silence_start:\s*([0-9.]+)", run.stderr)]
    ends = [float(x) for x in re.findall(r"silence_end:\s*([0-9.]+)", run.stderr)]
    return list(zip(starts, ends, strict=False))


@pytest.mark.parametrize("extension", ["wav", "mp3"])
async def test_known_pauses_are_shortened_and_timings_remapped(tmp_path: Path, extension: str) -> None:
    source, target = tmp_path / f"in.{extension}", tmp_path / f"out.{extension}"
    await make_track(source)
    duration = (await probe_media(source)).duration_seconds
    deadline = time.monotonic() + 60

    plan = await audio.plan_for(source, duration, OPTIONS, noise_db=-40, deadline=deadline)
    await audio.cut_regions(source, target, plan, extension=extension, deadline=deadline)

    # 1.0 s pause -> 0.16 s (removes 0.84); 0.2 s pause kept; trailing 0.6 s -> 0.08 (removes 0.52)
    stats = plan.stats()
    assert stats.removed_seconds == pytest.approx(0.84 + 0.52, abs=TOLERANCE)
    assert stats.regions_kept == 2
    measured = (await probe_media(target)).duration_seconds
    assert measured == pytest.approx(4.1 - 1.36, abs=0.06 if extension == "mp3" else TOLERANCE)  # mp3 frame padding
    # The second tone started at 2.0 s; in the trimmed audio it starts at 1.16 s — in the plan and in the audio.
    second_tone, in_gap, third_tone = plan.remap_characters(
        [CharacterTiming("b", 2.0, 2.5), CharacterTiming(" ", 1.5, 1.5), CharacterTiming("c", 2.7, 3.5)]
    )
    assert second_tone.start == pytest.approx(1.16, abs=TOLERANCE)
    assert second_tone.end == pytest.approx(1.66, abs=TOLERANCE)
    assert in_gap.start == pytest.approx(1.08, abs=TOLERANCE)  # snapped to where the next kept region begins
    assert third_tone.start == pytest.approx(1.86, abs=TOLERANCE)
    first_gap = (await silences_in(target))[0]
    assert first_gap[1] == pytest.approx(second_tone.start, abs=TOLERANCE)
