"""Timings from word events and from character alignments."""

from __future__ import annotations

import pytest

from services.tts.timings import CharacterTiming, WordMark, characters_from_word_marks, monotonic, words_from_characters


def test_word_events_become_character_timings_covering_the_audio() -> None:
    text = "Hi there, you."
    marks = [WordMark(0, 2, 0.0), WordMark(3, 5, 0.4), WordMark(10, 3, 1.0)]

    characters = characters_from_word_marks(text, marks, duration=1.6)

    assert "".join(c.character for c in characters) == text
    assert characters[0].start == 0.0
    assert characters[1].end == pytest.approx(0.4)  # "Hi" spans until "there" starts
    assert characters[2].start == characters[2].end == pytest.approx(0.4)  # the space sits at the next word
    assert characters[-1].end == pytest.approx(1.6)
    starts = [c.start for c in characters]
    assert starts == sorted(starts)


def test_words_are_runs_of_non_space_characters() -> None:
    characters = [CharacterTiming(ch, i * 0.1, (i + 1) * 0.1) for i, ch in enumerate("ab  cd")]

    words = words_from_characters(characters)

    assert [(w.word, w.char_start, w.char_end) for w in words] == [("ab", 0, 2), ("cd", 4, 6)]
    assert words[1].start == pytest.approx(0.4) and words[1].end == pytest.approx(0.6)


def test_overlapping_upstream_timings_are_made_monotonic_and_clamped() -> None:
    fixed = monotonic(
        [CharacterTiming("a", 0.2, 0.5), CharacterTiming("b", 0.1, 0.05), CharacterTiming("c", 0.9, 2.0)], 1.0
    )

    assert [(c.start, c.end) for c in fixed] == [(0.2, 0.5), (0.2, 0.2), (0.9, 1.0)]
