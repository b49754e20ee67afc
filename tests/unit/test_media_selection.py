"""Segment selection modes produce their specified orders; filling a target duration
cuts the last segment to fit; fitting to a voiceover trims, extends, then loops."""

from __future__ import annotations

from pathlib import Path

import pytest

from editai_common.errors import InvalidArgument
from services.render.media.final_render import fit_video
from services.render.media.segments import (
    SelectionMode,
    SourceRange,
    fill_duration,
    order_ranges,
    pieces_duration,
    select_pieces,
)

SRC = Path("/media/source.mp4")
# Project order a, b, c, d with durations 2, 5, 3, 5.
RANGES = [
    SourceRange(SRC, 0, 2, label="a"),
    SourceRange(SRC, 10, 15, label="b"),
    SourceRange(SRC, 20, 23, label="c"),
    SourceRange(SRC, 30, 35, label="d"),
]


def _labels(ranges: list[SourceRange]) -> list[str]:
    return [r.label for r in ranges]


def test_sequential_keeps_the_project_order() -> None:
    assert _labels(order_ranges(RANGES, SelectionMode.SEQUENTIAL)) == ["a", "b", "c", "d"]


def test_weighted_puts_the_longest_first_and_keeps_project_order_on_ties() -> None:
    assert _labels(order_ranges(RANGES, SelectionMode.WEIGHTED)) == ["b", "d", "c", "a"]


def test_random_is_a_reproducible_permutation_that_differs_per_variant() -> None:
    orders = {tuple(_labels(order_ranges(RANGES, SelectionMode.RANDOM, variant_index=i, seed=7))) for i in range(6)}

    assert all(sorted(order) == ["a", "b", "c", "d"] for order in orders)
    assert len(orders) > 1
    assert order_ranges(RANGES, SelectionMode.RANDOM, variant_index=2, seed=7) == order_ranges(
        RANGES, SelectionMode.RANDOM, variant_index=2, seed=7
    )


def test_later_variants_start_further_along_the_order() -> None:
    assert _labels(order_ranges(RANGES, SelectionMode.SEQUENTIAL, variant_index=1)) == ["b", "c", "d", "a"]
    assert _labels(order_ranges(RANGES, SelectionMode.WEIGHTED, variant_index=1)) == ["d", "c", "a", "b"]


def test_filling_cuts_the_last_segment_to_fit() -> None:
    pieces = select_pieces(RANGES, SelectionMode.SEQUENTIAL, 8.5)

    assert [(p.range.label, p.start, p.end, p.offset) for p in pieces] == [
        ("a", 0, 2, 0.0),
        ("b", 10, 15, 2.0),
        ("c", 20, 21.5, 7.0),
    ]
    assert pieces_duration(pieces) == pytest.approx(8.5)


def test_filling_stops_after_one_pass_when_segments_run_out() -> None:
    assert pieces_duration(fill_duration(RANGES, 100)) == pytest.approx(15)


def test_no_segments_is_a_clear_error() -> None:
    with pytest.raises(InvalidArgument) as raised:
        select_pieces([], SelectionMode.RANDOM, 10)
    assert raised.value.reason == "NO_SEGMENTS"


def test_unknown_selection_mode_names_the_field() -> None:
    with pytest.raises(InvalidArgument) as raised:
        SelectionMode.parse("loudest")
    assert raised.value.violations[0].field == "selection_mode"


def test_fit_video_trims_a_longer_video() -> None:
    pieces = fit_video([SourceRange(SRC, 0, 10)], [], 4.0)

    assert [(p.start, p.end) for p in pieces] == [(0, 4.0)]


def test_fit_video_extends_with_more_segments_before_looping() -> None:
    clip = SourceRange(SRC, 100, 103, label="clip")

    pieces = fit_video([clip], RANGES[:2], 8.0)

    assert [p.range.label for p in pieces] == ["clip", "a", "b"]
    assert pieces_duration(pieces) == pytest.approx(8.0)


def test_fit_video_loops_as_a_last_resort() -> None:
    clip = SourceRange(SRC, 0, 3, label="clip")

    pieces = fit_video([clip], [], 7.5)

    assert [(p.start, p.end, p.offset) for p in pieces] == [(0, 3, 0.0), (0, 3, 3.0), (0, 1.5, 6.0)]


@pytest.mark.timeout(5)
def test_a_tiny_remainder_never_stalls_filling_and_is_absorbed() -> None:
    # 3.95 s + a 0.05 s remainder: shorter than a piece may be.
    start = SourceRange(SRC, 0.05, 4.0, label="tail")
    whole = SourceRange(SRC, 0.0, 4.0, label="whole")

    pieces = fit_video([start], [whole], 4.0)

    assert pieces_duration(pieces) == pytest.approx(4.0)
    assert [p.range.label for p in pieces] == ["tail", "whole"]
    assert pieces[-1].duration == pytest.approx(0.05)
