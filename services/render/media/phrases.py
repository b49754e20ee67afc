"""Subtitle phrases from a voiceover's word timings.

Short-form video shows a few words at a time: a phrase holds at most
`MAX_PHRASE_CHARS` characters and `MAX_PHRASE_WORDS` words, and closes at the end
of a sentence. Each phrase is shown at least `MIN_PHRASE_SECONDS`; phrases never
overlap (a phrase ends no later than the next one starts) and a phrase stays up
across a short pause instead of flickering off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MAX_PHRASE_CHARS = 20
MAX_PHRASE_WORDS = 2
MIN_PHRASE_SECONDS = 0.1
# A pause shorter than this keeps the previous phrase on screen until the next.
HOLD_GAP_SECONDS = 0.5
_SENTENCE_END = (".", "!", "?", "…", "。", "！", "？")


@dataclass(frozen=True)
class TimedWord:
    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Phrase:
    text: str
    start: float
    end: float


def words_from_characters(characters: Sequence[tuple[str, float, float]]) -> list[TimedWord]:
    """Words from per-character timings (character, start, end); whitespace splits words."""
    words: list[TimedWord] = []
    text, start, end = "", 0.0, 0.0
    for char, char_start, char_end in characters:
        if char.isspace():
            if text:
                words.append(TimedWord(text, start, end))
            text = ""
            continue
        if not text:
            start = char_start
        text += char
        end = max(end, char_end) if text[:-1] else char_end
    if text:
        words.append(TimedWord(text, start, end))
    return words


def _closes_sentence(word: str) -> bool:
    return word.rstrip("\"'”’»)]").endswith(_SENTENCE_END)


def group_words(words: Sequence[TimedWord]) -> list[list[TimedWord]]:
    groups: list[list[TimedWord]] = []
    current: list[TimedWord] = []
    for word in words:
        if not word.text.strip():
            continue
        if current:
            joined = len(" ".join(w.text for w in current)) + 1 + len(word.text)
            if joined > MAX_PHRASE_CHARS or len(current) >= MAX_PHRASE_WORDS:
                groups.append(current)
                current = []
        current.append(word)
        if _closes_sentence(word.text):
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups


def build_phrases(words: Sequence[TimedWord], *, total_duration: float | None = None) -> list[Phrase]:
    """Phrases in time order, each ≥ MIN_PHRASE_SECONDS where room allows, never overlapping."""
    ordered = sorted(words, key=lambda w: w.start)
    raw = [
        Phrase(" ".join(w.text for w in group), max(0.0, group[0].start), max(w.end for w in group))
        for group in group_words(ordered)
    ]
    phrases: list[Phrase] = []
    for index, phrase in enumerate(raw):
        start = max(phrase.start, phrases[-1].end if phrases else 0.0)
        end = max(phrase.end, start + MIN_PHRASE_SECONDS)
        if index + 1 < len(raw) and raw[index + 1].start - end < HOLD_GAP_SECONDS:
            end = max(end, raw[index + 1].start)
        if total_duration is not None:
            end = min(end, total_duration)
        if end - start < MIN_PHRASE_SECONDS - 1e-9:
            # No room left before the audio ends: join the previous phrase rather
            # than flash for a frame.
            if phrases:
                last = phrases[-1]
                phrases[-1] = Phrase(f"{last.text} {phrase.text}", last.start, max(last.end, end))
            continue
        phrases.append(Phrase(phrase.text, round(start, 3), round(end, 3)))
    return phrases
