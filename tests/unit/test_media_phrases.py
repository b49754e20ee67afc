"""Subtitle phrases from TTS timings: ≤ 20 characters / 2 words, sentence ends close a
phrase, at least 0.1 s each, never overlapping."""

from __future__ import annotations

import itertools

from services.render.media.phrases import (
    MAX_PHRASE_CHARS,
    MAX_PHRASE_WORDS,
    MIN_PHRASE_SECONDS,
    TimedWord,
    build_phrases,
    words_from_characters,
)


def _words(text: str, *, step: float = 0.3, length: float = 0.25) -> list[TimedWord]:
    return [TimedWord(word, i * step, i * step + length) for i, word in enumerate(text.split())]


def test_phrases_hold_at_most_two_words_and_twenty_characters() -> None:
    phrases = build_phrases(_words("one two three four twelve extraordinarily long words here"))

    assert [p.text for p in phrases] == ["one two", "three four", "twelve", "extraordinarily long", "words here"]
    assert all(len(p.text.split()) <= MAX_PHRASE_WORDS for p in phrases)
    assert all(len(p.text) <= MAX_PHRASE_CHARS for p in phrases)


def test_a_sentence_end_closes_the_phrase() -> None:
    phrases = build_phrases(_words("Stop. Go now! Why? Yes"))

    assert [p.text for p in phrases] == ["Stop.", "Go now!", "Why?", "Yes"]


def test_phrases_last_at_least_the_minimum_and_never_overlap() -> None:
    crowded = [
        TimedWord("a.", 0.0, 0.01),
        TimedWord("b.", 0.02, 0.03),
        TimedWord("c.", 0.5, 0.52),
        TimedWord("d", 0.53, 0.6),
    ]

    phrases = build_phrases(crowded)

    assert all(p.end - p.start >= MIN_PHRASE_SECONDS - 1e-9 for p in phrases)
    assert all(a.end <= b.start for a, b in itertools.pairwise(phrases))
    assert "".join(p.text.replace(" ", "") for p in phrases) == "a.b.c.d"


def test_a_phrase_stays_up_over_a_short_pause_but_not_a_long_one() -> None:
    words = [TimedWord("Hi.", 0.0, 0.4), TimedWord("There.", 0.6, 1.0), TimedWord("Later.", 3.0, 3.5)]

    phrases = build_phrases(words)

    assert phrases[0].end == 0.6  # held across the 0.2 s pause
    assert phrases[1].end == 1.0  # not held across the 2 s pause


def test_phrases_are_cut_at_the_audio_end() -> None:
    phrases = build_phrases(_words("one two three"), total_duration=0.5)

    assert phrases[-1].end <= 0.5


def test_words_from_character_timings() -> None:
    chars = [(c, i * 0.1, i * 0.1 + 0.1) for i, c in enumerate("Hi you")]

    words = words_from_characters(chars)

    assert [(w.text, round(w.start, 2), round(w.end, 2)) for w in words] == [("Hi", 0.0, 0.2), ("you", 0.3, 0.6)]
