"""Silence trimming arithmetic: plan the kept regions, remap timings exactly."""

from __future__ import annotations

import pytest

from services.tts.timings import CharacterTiming
from services.tts.trimming import Span, TrimOptions, parse_silencedetect, plan_trim

OPTIONS = TrimOptions(min_silence=0.3, padding=0.08)

SILENCEDETECT_LOG = """
[silencedetect @ 0x55d1] silence_start: 0
[silencedetect @ 0x55d1] silence_end: 0.5 | silence_duration: 0.5
size=N/A time=00:00:01.00 bitrate=N/A speed= 100x
[silencedetect @ 0x55d1] silence_start: 1.5
[silencedetect @ 0x55d1] silence_end: 2.5 | silence_duration: 1
[silencedetect @ 0x55d1] silence_start: 3.9
"""


def test_silencedetect_log_is_parsed_and_an_open_silence_runs_to_the_end() -> None:
    assert parse_silencedetect(SILENCEDETECT_LOG, 4.0) == [Span(0.0, 0.5), Span(1.5, 2.5), Span(3.9, 4.0)]


def test_long_pauses_shrink_to_padding_and_short_ones_stay() -> None:
    # speech 0.5–1.5, pause 1.5–2.5 (long), speech 2.5–3.0, pause 3.0–3.2 (short), speech 3.2–4.0
    plan = plan_trim([Span(0.0, 0.5), Span(1.5, 2.5), Span(3.0, 3.2)], 4.0, OPTIONS)

    assert plan.kept == (Span(0.42, 1.58), Span(2.42, 4.0))
    stats = plan.stats()
    assert stats.removed_seconds == pytest.approx(0.42 + 0.84)
    assert stats.new_duration == pytest.approx(4.0 - 1.26)
    assert stats.regions_kept == 2


def test_trailing_silence_keeps_one_padding() -> None:
    plan = plan_trim([Span(2.0, 3.0)], 3.0, OPTIONS)
    assert plan.kept == (Span(0.0, 2.08),)


def test_nothing_to_remove_keeps_the_whole_track() -> None:
    plan = plan_trim([Span(1.0, 1.2)], 3.0, OPTIONS)
    assert plan.kept == (Span(0.0, 3.0),)
    assert not plan.removes_anything


def test_all_silence_is_kept_rather_than_emptied() -> None:
    plan = plan_trim([Span(0.0, 2.0)], 2.0, OPTIONS)
    assert plan.kept == (Span(0.0, 2.0),)


def test_timings_are_remapped_through_the_kept_regions() -> None:
    plan = plan_trim([Span(1.5, 2.5)], 4.0, OPTIONS)  # removes 1.58–2.42

    assert plan.remap(1.0) == pytest.approx(1.0)
    assert plan.remap(1.58) == pytest.approx(1.58)
    assert plan.remap(3.0) == pytest.approx(3.0 - 0.84)
    assert plan.remap(4.0) == pytest.approx(4.0 - 0.84)


def test_a_timing_inside_a_removed_gap_snaps_to_the_next_kept_region() -> None:
    plan = plan_trim([Span(1.5, 2.5)], 4.0, OPTIONS)

    assert plan.remap(2.0) == pytest.approx(1.58)  # where the region starting at 2.42 now begins
    assert plan.remap(2.42) == pytest.approx(1.58)


def test_remapped_characters_keep_their_order() -> None:
    plan = plan_trim([Span(0.0, 0.5), Span(1.5, 2.5)], 4.0, OPTIONS)
    characters = [CharacterTiming("a", 0.5, 1.0), CharacterTiming(" ", 1.6, 2.4), CharacterTiming("b", 2.5, 3.0)]

    remapped = plan.remap_characters(characters)

    assert [round(c.start, 3) for c in remapped] == [0.08, 1.16, 1.24]
    assert [round(c.end, 3) for c in remapped] == [0.58, 1.16, 1.74]
