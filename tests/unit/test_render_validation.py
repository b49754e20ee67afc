"""Job request validation: every bad field is named; settings become the frontend's camelCase keys."""

from __future__ import annotations

import pytest

from editai.render.v1 import render_pb2
from editai_common.errors import InvalidArgument
from services.render import validation
from services.render.validation import Violations


def test_subtitle_settings_keep_only_set_fields_as_camel_case() -> None:
    v = Violations()
    style = render_pb2.SubtitleStyle(font_size=60, text_color="#FFCC00", enable_glow=False, position_y=80)
    assert validation.subtitle_settings(v, "subtitle_settings", style) == {
        "fontSize": 60, "textColor": "#FFCC00", "enableGlow": False, "positionY": 80,
    }  # fmt: skip
    assert v.items == []


def test_every_bad_field_is_reported_at_once() -> None:
    v = Violations()
    style = render_pb2.SubtitleStyle(text_color="red", position_y=120, border_style=2)
    validation.subtitle_settings(v, "subtitle_settings", style)
    validation.preset(v, "myspace")
    validation.variant_count(v, 11, default=3)
    validation.filters(v, render_pb2.RenderFilters(brightness=2))
    with pytest.raises(InvalidArgument) as raised:
        v.raise_if_any()
    assert [f.field for f in raised.value.violations] == [
        "subtitle_settings.text_color", "subtitle_settings.position_y", "subtitle_settings.border_style",
        "preset_name", "variant_count", "filters.brightness",
    ]  # fmt: skip


@pytest.mark.parametrize(("size", "token", "expected"), [(0, "", (100, 0)), (10, "20", (10, 20))])
def test_pages(size: int, token: str, expected: tuple[int, int]) -> None:
    v = Violations()
    assert validation.page(v, size, token) == expected and v.items == []


def test_defaults_fill_zeroes() -> None:
    v = Violations()
    assert validation.variant_count(v, 0, default=3) == 3
    assert validation.duration(v, "target_duration", 0, default=30.0) == 30.0
    assert validation.preset(v, "") == "generic" and v.items == []
