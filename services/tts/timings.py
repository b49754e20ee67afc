"""Character and word timings: what subtitles are synced against.

Providers report timings differently (ElevenLabs per character, espeak-ng per word);
this module turns both into one shape — per-character timings whose starts never go
backwards and which end where the audio ends — and derives the words from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class CharacterTiming:
    """One character of the spoken text and when it is heard, in seconds."""

    character: str
    start: float
    end: float


@dataclass(frozen=True)
class WordTiming:
    """A run of non-space characters; `char_start`/`char_end` index the text (end exclusive)."""

    word: str
    start: float
    end: float
    char_start: int
    char_end: int


@dataclass(frozen=True)
class WordMark:
    """Where a word starts in the text and in the audio (an engine's word event)."""

    char_start: int
    length: int
    start: float


def monotonic(characters: Sequence[CharacterTiming], duration: float | None = None) -> list[CharacterTiming]:
    """Starts never decrease, each end is at least its start, nothing goes past `duration`.

    Upstream alignments overlap by a few milliseconds now and then; subtitle sync
    needs an order it can trust.
    """
    fixed: list[CharacterTiming] = []
    floor = 0.0
    for timing in characters:
        start = max(timing.start, floor)
        end = max(timing.end, start)
        if duration is not None:
            start, end = min(start, duration), min(end, duration)
        fixed.append(CharacterTiming(timing.character, start, end))
        floor = start
    return fixed


def rounded(characters: Sequence[CharacterTiming], places: int = 4) -> tuple[CharacterTiming, ...]:
    """0.1 ms is far below what anyone hears; the cache stores timings at this precision."""
    return tuple(CharacterTiming(c.character, round(c.start, places), round(c.end, places)) for c in characters)


def characters_from_word_marks(text: str, marks: Sequence[WordMark], duration: float) -> list[CharacterTiming]:
    """Per-character timings from word start events.

    A word lasts until the next word starts (the last one until the audio ends); its
    characters share that span in equal parts. Characters outside every word (spaces,
    punctuation the engine did not count) sit at the next word's start with no length.
    """
    ordered = sorted((m for m in marks if 0 <= m.char_start < len(text)), key=lambda m: m.char_start)
    starts = [0.0] * len(text)
    ends = [0.0] * len(text)
    covered = [False] * len(text)
    for index, mark in enumerate(ordered):
        following = ordered[index + 1].start if index + 1 < len(ordered) else duration
        span_end = max(mark.start, min(following, duration))
        last = min(mark.char_start + max(mark.length, 1), len(text))
        if index + 1 < len(ordered):
            last = min(last, ordered[index + 1].char_start)
        count = last - mark.char_start
        step = (span_end - mark.start) / count if count else 0.0
        for offset in range(count):
            position = mark.char_start + offset
            starts[position] = mark.start + step * offset
            ends[position] = mark.start + step * (offset + 1)
            covered[position] = True
    # Uncovered characters take the next covered start (or the end of the audio).
    upcoming = duration
    for position in range(len(text) - 1, -1, -1):
        if covered[position]:
            upcoming = starts[position]
        else:
            starts[position] = ends[position] = upcoming
    timings = [CharacterTiming(text[i], starts[i], ends[i]) for i in range(len(text))]
    return monotonic(timings, duration)


def words_from_characters(characters: Sequence[CharacterTiming]) -> list[WordTiming]:
    """Words are maximal runs of non-whitespace characters."""
    words: list[WordTiming] = []
    begin: int | None = None
    for index, timing in enumerate([*characters, CharacterTiming(" ", 0.0, 0.0)]):
        if timing.character.isspace():
            if begin is not None:
                run = characters[begin:index]
                words.append(
                    WordTiming(
                        word="".join(c.character for c in run),
                        start=run[0].start,
                        end=max(c.end for c in run),
                        char_start=begin,
                        char_end=index,
                    )
                )
                begin = None
        elif begin is None:
            begin = index
    return words
