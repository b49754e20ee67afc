"""Pure parts of the media analysis: silencedetect/metadata parsing, speech regions,
remapping regions into output time, the ducking curve, window picking."""

from __future__ import annotations

import pytest

from services.render.media.filtergraph import escape_option_value
from services.render.media.scoring import FrameStats, parse_metadata_print, pick_windows, window_length
from services.render.media.speech_regions import (
    Region,
    complement,
    ducking_expression,
    parse_silences,
    shift_regions,
)

SILENCEDETECT_LOG = """
[silencedetect @ 0x1] silence_start: 1.02
[silencedetect @ 0x1] silence_end: 2.01 | silence_duration: 0.99
[silencedetect @ 0x1] silence_start: 4.5
"""


def test_silences_parse_and_an_open_one_runs_to_the_end() -> None:
    assert parse_silences(SILENCEDETECT_LOG, 6.0) == [Region(1.02, 2.01), Region(4.5, 6.0)]


def test_speech_is_what_is_not_silent_with_close_regions_merged() -> None:
    silences = [Region(1.0, 2.0), Region(3.0, 3.2), Region(4.5, 6.0)]

    assert complement(silences, 6.0) == [Region(0.0, 1.0), Region(2.0, 4.5)]


def test_regions_are_remapped_into_the_output_timeline() -> None:
    regions = [Region(1.0, 3.0), Region(8.0, 9.0), Region(12.0, 20.0)]

    shifted = shift_regions(regions, source_start=2.0, source_end=13.0, output_offset=5.0)

    assert shifted == [Region(5.0, 6.0), Region(11.0, 12.0), Region(15.0, 16.0)]


def _evaluate(expression: str, t: float) -> float:
    # The subset of ffmpeg's expression language the ducking curve uses.
    return eval(expression, {"clip": lambda x, lo, hi: min(max(x, lo), hi), "t": t})


def test_ducking_curve_mutes_inside_regions_with_short_fades() -> None:
    expression = ducking_expression([Region(1.0, 2.0), Region(4.0, 5.0)], floor=0.0, fade=0.1)

    assert _evaluate(expression, 0.5) == pytest.approx(1.0)
    assert _evaluate(expression, 0.95) == pytest.approx(0.5)
    assert _evaluate(expression, 1.5) == pytest.approx(0.0)
    assert _evaluate(expression, 3.0) == pytest.approx(1.0)
    assert _evaluate(expression, 4.5) == pytest.approx(0.0)


def test_metadata_print_output_parses_per_frame() -> None:
    text = (
        "frame:0    pts:0       pts_time:0\nlavfi.scd.score=0.000\nlavfi.signalstats.YAVG=120.5\nlavfi.blur=3.5\n"
        "frame:1    pts:1       pts_time:0.2\nlavfi.scd.score=42.000\nlavfi.signalstats.YDIF=7.25\n"
    )

    frames = parse_metadata_print(text)

    assert frames == [FrameStats(time=0.0, luma=120.5, blur=3.5), FrameStats(time=0.2, scene=42.0, difference=7.25)]


def _frames(duration: float, lively: tuple[float, float]) -> list[FrameStats]:
    frames = []
    for i in range(int(duration * 5)):
        t = i / 5
        moving = lively[0] <= t < lively[1]
        frames.append(FrameStats(time=t, difference=20.0 if moving else 0.5, luma=100 + t, blur=2.0))
    return frames


def test_each_variant_takes_the_best_window_of_its_own_part() -> None:
    windows = pick_windows(_frames(60, (12, 18)), source_duration=60, target_duration=10, variant_count=3)

    assert len(windows) == 3
    starts = [w.start for w in windows]
    assert starts == sorted(starts) and len(set(starts)) == 3
    assert all(w.duration == pytest.approx(10) for w in windows)
    # The first part (starts 0–16.7) holds the lively stretch: its window covers it.
    assert windows[0].start <= 12 and windows[0].end >= 18


def test_short_sources_still_give_distinct_windows() -> None:
    assert window_length(6, 30, 3) == pytest.approx(4.8)
    windows = pick_windows(_frames(6, (0, 6)), source_duration=6, target_duration=30, variant_count=3)
    assert len({w.start for w in windows}) == 3


def test_filter_option_escaping_keeps_special_characters_literal() -> None:
    assert escape_option_value("/tmp/a:b/it's,[x];") == "/tmp/a\\\\:b/it\\\\\\'s\\,\\[x\\]\\;"
