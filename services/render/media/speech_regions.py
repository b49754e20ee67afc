"""Where the source audio has someone speaking, and a volume curve that ducks it.

Detection is ffmpeg's `silencedetect`: everything that is not silence for at least
`min_silence` seconds is a (speech) region. Close regions merge so the ducking does
not pump between words. The ducking curve is one `volume` expression evaluated per
frame: 1.0 outside regions, `floor` inside, with linear fades of `fade` seconds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from editai_common.ffmpeg import run_ffmpeg

_START = re.compile(r"silence_start:\s*(-?[0-9.]+)")
_END = re.compile(r"silence_end:\s*(-?[0-9.]+)")


@dataclass(frozen=True)
class Region:
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


def parse_silences(stderr: str, duration: float) -> list[Region]:
    """Silences from silencedetect's log; an unterminated one runs to the end."""
    silences: list[Region] = []
    open_start: float | None = None
    for line in stderr.splitlines():
        if (match := _START.search(line)) is not None:
            open_start = max(0.0, float(match.group(1)))
        elif (match := _END.search(line)) is not None and open_start is not None:
            silences.append(Region(open_start, min(duration, float(match.group(1)))))
            open_start = None
    if open_start is not None and open_start < duration:
        silences.append(Region(open_start, duration))
    return silences


def complement(
    silences: Sequence[Region], duration: float, *, merge_gap: float = 0.3, min_length: float = 0.15
) -> list[Region]:
    """The sounding parts of [0, duration]: gaps between silences, merged and filtered."""
    regions: list[Region] = []
    cursor = 0.0
    for silence in sorted(silences, key=lambda r: r.start):
        if silence.start > cursor:
            regions.append(Region(cursor, silence.start))
        cursor = max(cursor, silence.end)
    if cursor < duration:
        regions.append(Region(cursor, duration))
    merged: list[Region] = []
    for region in regions:
        if merged and region.start - merged[-1].end <= merge_gap:
            merged[-1] = Region(merged[-1].start, region.end)
        else:
            merged.append(region)
    return [r for r in merged if r.duration >= min_length]


async def detect_speech_regions(
    source: Path,
    *,
    duration: float,
    time_limit: float,
    start: float = 0.0,
    noise_db: float = -35.0,
    min_silence: float = 0.35,
) -> list[Region]:
    """Non-silent regions of `source`'s audio in [start, start + duration), in that window's time."""
    run = await run_ffmpeg(
        [
            "-ss", f"{start:.3f}", "-t", f"{duration:.3f}", "-i", source,
            "-vn", "-sn", "-af", f"silencedetect=noise={noise_db}dB:d={min_silence}", "-f", "null", "-",
        ],
        time_limit=time_limit,
        loglevel="info",
    )  # fmt: skip
    return complement(parse_silences(run.stderr, duration), duration)


def shift_regions(
    regions: Sequence[Region], *, source_start: float, source_end: float, output_offset: float
) -> list[Region]:
    """Regions in source time → output time for a piece [source_start, source_end)
    placed at `output_offset` of the output; parts outside the piece are dropped."""
    shifted = []
    for region in regions:
        start, end = max(region.start, source_start), min(region.end, source_end)
        if end > start:
            shifted.append(
                Region(round(start - source_start + output_offset, 4), round(end - source_start + output_offset, 4))
            )
    return shifted


def ducking_expression(regions: Sequence[Region], *, floor: float = 0.0, fade: float = 0.08) -> str:
    """A `volume` expression: `floor` inside regions, 1 outside, linear fades of `fade` s.

    Each region contributes a trapezoid that is 1 inside it and ramps over `fade`
    on both sides; their clipped sum is the amount of ducking.
    """
    if not regions:
        return "1"
    terms = [
        f"clip((t-{r.start - fade:.4f})/{fade:.4f},0,1)*clip(({r.end + fade:.4f}-t)/{fade:.4f},0,1)" for r in regions
    ]
    duck = f"clip({'+'.join(terms)},0,1)"
    return f"1-{1 - floor:.4f}*{duck}"


def ducking_filter(regions: Sequence[Region], *, floor: float = 0.0, fade: float = 0.08) -> str:
    """`volume` filter applying the ducking curve; small frames keep the fades smooth."""
    if not regions:
        return "anull"
    expression = ducking_expression(regions, floor=floor, fade=fade)
    return f"asetnsamples=n=256,volume=volume='{expression}':eval=frame"
