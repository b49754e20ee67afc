"""SubtitleStyle from camelCase settings and the ASS file it produces."""

from __future__ import annotations

import pysubs2
import pytest

from editai_common.errors import InvalidArgument
from services.render.media.phrases import Phrase
from services.render.media.subtitle_style import SubtitleStyle
from services.render.media.subtitles import build_ass, cue_font_size, phrases_to_srt, sanitize_srt


def test_defaults_follow_the_design() -> None:
    style = SubtitleStyle.from_settings({})

    assert (style.font_size, style.font_family, style.text_color, style.outline_color) == (
        48,
        "Montserrat",
        "#FFFFFF",
        "#000000",
    )
    assert (style.outline_width, style.position_y) == (3.0, 85.0)


def test_every_key_is_read_and_unknown_keys_are_ignored() -> None:
    settings = {
        "fontSize": 64, "fontFamily": "'Open Sans', Arial, sans-serif", "textColor": "#ffcc00",
        "outlineColor": "#112233", "outlineWidth": 5, "positionY": 20, "shadowDepth": 2, "shadowColor": "#445566",
        "borderStyle": 3, "enableGlow": True, "glowBlur": 6.5, "adaptiveSizing": True, "somethingNew": [1],
    }  # fmt: skip

    style = SubtitleStyle.from_settings(settings)

    assert style == SubtitleStyle(64, "Open Sans", "#FFCC00", "#112233", 5.0, 20.0, 2.0, "#445566", 3, True, 6.5, True)


def test_a_css_list_of_generic_families_falls_back_to_the_default() -> None:
    assert SubtitleStyle.from_settings({"fontFamily": "system-ui, sans-serif"}).font_family == "Montserrat"


def test_wrong_types_and_ranges_name_each_camel_case_field() -> None:
    bad = {
        "fontSize": "big",
        "positionY": 120,
        "textColor": "red",
        "borderStyle": 2,
        "enableGlow": "yes",
        "glowBlur": -1,
    }

    with pytest.raises(InvalidArgument) as raised:
        SubtitleStyle.from_settings(bad)

    fields = {v.field for v in raised.value.violations}
    assert fields == {f"subtitle_settings.{key}" for key in bad}
    assert raised.value.reason == "INVALID_SUBTITLE_SETTINGS"


def test_a_boolean_is_not_a_number() -> None:
    with pytest.raises(InvalidArgument):
        SubtitleStyle.from_settings({"fontSize": True})


def test_ass_play_resolution_is_the_output_frame_and_sizes_are_pixels() -> None:
    style = SubtitleStyle.from_settings({"fontSize": 72, "positionY": 25, "borderStyle": 3, "shadowDepth": 2})

    subs = pysubs2.SSAFile.from_string(build_ass([Phrase("Hello", 0.5, 1.0)], style).to_string("ass"))

    assert (subs.info["PlayResX"], subs.info["PlayResY"]) == ("1080", "1920")
    default = subs.styles["Default"]
    assert (default.fontsize, default.borderstyle, default.shadow) == (72, 3, 2)
    assert "\\pos(540,480)" in subs[0].text  # 25 % of 1920
    assert (subs[0].start, subs[0].end) == (500, 1000)


def test_glow_adds_a_blurred_layer_below_the_text() -> None:
    style = SubtitleStyle.from_settings({"enableGlow": True, "glowBlur": 4})

    events = build_ass([Phrase("Glow", 0, 1)], style).events

    assert [e.layer for e in events] == [0, 1]
    assert "\\blur8" in events[0].text and "\\blur" not in events[1].text


def test_adaptive_sizing_shrinks_only_long_lines() -> None:
    style = SubtitleStyle.from_settings({"fontSize": 100, "adaptiveSizing": True})

    assert cue_font_size("short", style, 1080) == 100
    assert 50 <= cue_font_size("a much much longer line of text", style, 1080) < 100
    assert cue_font_size("a much much longer line of text", SubtitleStyle(font_size=100), 1080) == 100


def test_user_srt_is_sanitised_sorted_and_never_overlaps() -> None:
    srt = (
        "\ufeff2\r\n00:00:02,000 --> 00:00:03,000\r\n<b>second</b> {\\pos(1,1)}cue\r\n\r\n"
        "1\r\n00:00:00,500 --> 00:00:02,500\r\nfirst\r\n\r\n"
        "3\r\n00:00:04,000 --> 00:00:04,000\r\nempty span\r\n\r\n"
    )

    cues = sanitize_srt(srt)

    assert [(c.text, c.start, c.end) for c in cues] == [("first", 0.5, 2.0), ("second cue", 2.0, 3.0)]
    assert "{" not in phrases_to_srt(cues)


def test_srt_without_cues_is_invalid() -> None:
    with pytest.raises(InvalidArgument) as raised:
        sanitize_srt("this is not a subtitle file")
    assert raised.value.reason == "INVALID_SRT"
    assert raised.value.violations[0].field == "srt_content"
