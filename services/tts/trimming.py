"""Silence trimming as arithmetic: which stretches of audio to keep, and where a
moment of the original lands in the trimmed audio.

No I/O here: `audio.py` runs ffmpeg's `silencedetect` and cuts the kept regions;
this module parses what silencedetect printed, plans the cut and remaps timings,
so every rule is unit-tested in milliseconds.

Rules: a pause at least `min_silence` long is shortened to `padding` on each side
of the speech around it (leading and trailing silence keep one `padding`); shorter
pauses stay as they are. A moment inside a removed gap snaps to the start of the
next kept region, so a subtitle never points into audio that no longer exists.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from services.tts.timings import CharacterTiming

# Regions shorter than this are noise in the plan, not audio worth a concat input.
_MIN_REGION_SECONDS = 0.001

_SILENCE_START = re.compile(r"silence_start:\s*(-?[0-9.]+)")
_SILENCE_END = re.compile(r"silence_end:\s*(-?[0-9.]+)")


@dataclass(frozen=True)
class TrimOptions:
    """The caller's trimming request (validated ranges: 0.1–2.0 s and 0.02–0.3 s)."""

    min_silence: float = 0.3
    padding: float = 0.08


@dataclass(frozen=True)
class Span:
    """[start, end) in seconds."""

    start: float
    end: float

    @property
    def length(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class TrimStats:
    original_duration: float
    new_duration: float
    removed_seconds: float
    regions_kept: int


@dataclass(frozen=True)
class TrimPlan:
    """The regions of the original audio that are kept, in order."""

    original_duration: float
    kept: tuple[Span, ...]

    @property
    def new_duration(self) -> float:
        return sum(region.length for region in self.kept)

    @property
    def removes_anything(self) -> bool:
        return self.original_duration - self.new_duration > _MIN_REGION_SECONDS

    def stats(self) -> TrimStats:
        new = self.new_duration
        return TrimStats(
            original_duration=self.original_duration,
            new_duration=new,
            removed_seconds=max(0.0, self.original_duration - new),
            regions_kept=len(self.kept),
        )

    def remap(self, moment: float) -> float:
        """Where `moment` of the original is heard in the trimmed audio."""
        offset = 0.0
        for region in self.kept:
            if moment < region.start:
                return offset  # inside a removed gap: the next kept region's start
            if moment <= region.end:
                return offset + (moment - region.start)
            offset += region.length
        return offset

    def remap_characters(self, characters: Sequence[CharacterTiming]) -> list[CharacterTiming]:
        return [CharacterTiming(c.character, self.remap(c.start), self.remap(c.end)) for c in characters]


def parse_silencedetect(stderr: str, duration: float) -> list[Span]:
    """Silences from ffmpeg's silencedetect log; one still open at the end runs to `duration`."""
    silences: list[Span] = []
    open_start: float | None = None
    for line in stderr.splitlines():
        if (started := _SILENCE_START.search(line)) is not None:
            open_start = max(0.0, float(started.group(1)))
        elif (ended := _SILENCE_END.search(line)) is not None:
            end = min(float(ended.group(1)), duration)
            silences.append(Span(open_start if open_start is not None else 0.0, end))
            open_start = None
    if open_start is not None and open_start < duration:
        silences.append(Span(open_start, duration))
    return silences


def plan_trim(silences: Sequence[Span], duration: float, options: TrimOptions) -> TrimPlan:
    """Keep speech plus `padding`; drop the rest of every pause of at least `min_silence`."""
    removed: list[Span] = []
    for silence in sorted(silences, key=lambda s: s.start):
        start, end = max(0.0, silence.start), min(duration, silence.end)
        if end - start < options.min_silence:
            continue
        gap_start = start if start <= 0.0 else start + options.padding
        gap_end = end if end >= duration else end - options.padding
        if start <= 0.0 and end >= duration:
            gap_start, gap_end = 0.0, 0.0  # all silence: nothing to keep speech around
        if gap_end - gap_start > _MIN_REGION_SECONDS:
            removed.append(Span(gap_start, gap_end))
    kept: list[Span] = []
    cursor = 0.0
    for gap in removed:
        if gap.start - cursor > _MIN_REGION_SECONDS:
            kept.append(Span(cursor, gap.start))
        cursor = max(cursor, gap.end)
    if duration - cursor > _MIN_REGION_SECONDS:
        kept.append(Span(cursor, duration))
    if not kept:
        kept.append(Span(0.0, duration))
    return TrimPlan(original_duration=duration, kept=tuple(kept))
