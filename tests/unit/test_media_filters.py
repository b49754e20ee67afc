"""Filters and presets: values are validated to range with a violation per field,
and the enabled filters become the expected ffmpeg chain."""

from __future__ import annotations

import math

import pytest

from editai_common.errors import InvalidArgument
from services.render.media.filters import VideoFilters
from services.render.media.presets import PRESETS, preset_named


def test_out_of_range_filters_name_every_bad_field() -> None:
    with pytest.raises(InvalidArgument) as raised:
        VideoFilters.from_request(denoise_strength=11, sharpen_amount=-1, brightness=2, contrast=math.nan)

    assert {v.field for v in raised.value.violations} == {
        "denoise_strength",
        "sharpen_amount",
        "brightness",
        "contrast",
    }
    assert raised.value.reason == "FILTER_OUT_OF_RANGE"


def test_enabled_filters_build_a_chain_in_order() -> None:
    filters = VideoFilters.from_request(
        enable_denoise=True, denoise_strength=4, enable_sharpen=True, sharpen_amount=1.5,
        enable_color=True, brightness=0.1, contrast=1.2, saturation=0,
    )  # fmt: skip

    assert filters.chain() == [
        "hqdn3d=4:3:6:4.5",
        "unsharp=5:5:1.5:5:5:0",
        "eq=brightness=0.1:contrast=1.2:saturation=1",
    ]


def test_disabled_or_neutral_filters_add_nothing() -> None:
    assert VideoFilters.from_request(denoise_strength=5, enable_color=True).filtergraph() == ""


def test_every_preset_is_vertical_h264_with_the_loudness_target() -> None:
    assert set(PRESETS) == {
        "tiktok",
        "instagram_reels",
        "youtube_shorts",
        "facebook_reels",
        "instagram_story",
        "generic",
    }
    for preset in PRESETS.values():
        args = preset.output_args()
        assert (preset.width, preset.height, preset.gop) == (1080, 1920, 60)
        assert 18 <= preset.crf <= 20
        assert args[0:2] == ["-c:v", "libx264"] and "yuv420p" in args and "+faststart" in args
        assert args[args.index("-b:a") + 1] == "192k" and args[args.index("-ar") + 1] == "48000"
        assert (preset.loudness.integrated_lufs, preset.loudness.true_peak_dbtp) == (-14.0, -1.5)


def test_unknown_preset_is_invalid_argument() -> None:
    with pytest.raises(InvalidArgument) as raised:
        preset_named("myspace")

    assert raised.value.reason == "UNKNOWN_PRESET"
    assert raised.value.violations[0].field == "preset_name"


def test_empty_preset_name_means_generic() -> None:
    assert preset_named("").name == "generic"
    assert preset_named(" TikTok ").name == "tiktok"
