"""SubtitleStyle: the frontend's `subtitle_settings` (camelCase JSON), validated.

Unknown keys are ignored; a wrong type or an out-of-range value is an
INVALID_ARGUMENT whose field violations name the camelCase key
(`subtitle_settings.fontSize`). Defaults follow DESIGN.md §2.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from editai_common.errors import FieldViolation, invalid_fields

_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
# CSS generic families and platform aliases: not a font libass can look up.
_GENERIC_FAMILIES = {
    "serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui", "emoji", "math", "fangsong",
    "ui-serif", "ui-sans-serif", "ui-monospace", "ui-rounded", "-apple-system", "blinkmacsystemfont",
    "inherit", "initial", "unset", "revert",
}  # fmt: skip
DEFAULT_FONT_FAMILY = "Montserrat"


@dataclass(frozen=True)
class SubtitleStyle:
    font_size: int = 48
    font_family: str = DEFAULT_FONT_FAMILY
    text_color: str = "#FFFFFF"
    outline_color: str = "#000000"
    outline_width: float = 3.0
    position_y: float = 85.0
    shadow_depth: float = 0.0
    shadow_color: str = "#000000"
    border_style: int = 1
    enable_glow: bool = False
    glow_blur: float = 0.0
    adaptive_sizing: bool = False

    @classmethod
    def from_settings(
        cls, settings: Mapping[str, Any] | None, *, field_prefix: str = "subtitle_settings."
    ) -> SubtitleStyle:
        """Parse camelCase settings; raises InvalidArgument listing every bad key."""
        values: dict[str, Any] = {}
        violations: list[FieldViolation] = []
        for key, (attribute, parse) in _FIELDS.items():
            if settings is None or key not in settings or settings[key] is None:
                continue
            try:
                values[attribute] = parse(settings[key])
            except ValueError as error:
                violations.append(FieldViolation(f"{field_prefix}{key}", str(error)))
        if violations:
            raise invalid_fields(violations, reason="INVALID_SUBTITLE_SETTINGS")
        return cls(**values)

    def to_settings(self) -> dict[str, Any]:
        """Back to the camelCase shape (what the API returns and stores)."""
        return {key: getattr(self, attribute) for key, (attribute, _) in _FIELDS.items()}


def _number(value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"must be a number between {low:g} and {high:g}")
    if not low <= value <= high:
        raise ValueError(f"must be between {low:g} and {high:g}, got {value:g}")
    return float(value)


def _integer(value: Any, low: int, high: int) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"must be an integer between {low} and {high}")
    if not low <= value <= high:
        raise ValueError(f"must be between {low} and {high}, got {value}")
    return value


def _color(value: Any) -> str:
    if not isinstance(value, str) or not _COLOR.match(value.strip()):
        raise ValueError("must be a colour as #RRGGBB")
    return value.strip().upper()


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _border_style(value: Any) -> int:
    number = _integer(value, 1, 3)
    if number not in (1, 3):
        raise ValueError("must be 1 (outline) or 3 (box)")
    return number


def font_family(value: Any) -> str:
    """The first real family of a CSS font list: `'Inter', Arial, sans-serif` → Inter."""
    if not isinstance(value, str) or len(value) > 200:
        raise ValueError("must be a font family name or a CSS font list")
    for candidate in value.split(","):
        name = candidate.strip().strip("'\"").strip()
        if name and name.lower() not in _GENERIC_FAMILIES and re.fullmatch(r"[\w .\-]+", name):
            return name
    return DEFAULT_FONT_FAMILY


_FIELDS: dict[str, tuple[str, Any]] = {
    "fontSize": ("font_size", lambda v: _integer(v, 8, 400)),
    "fontFamily": ("font_family", font_family),
    "textColor": ("text_color", _color),
    "outlineColor": ("outline_color", _color),
    "outlineWidth": ("outline_width", lambda v: _number(v, 0, 20)),
    "positionY": ("position_y", lambda v: _number(v, 0, 100)),
    "shadowDepth": ("shadow_depth", lambda v: _number(v, 0, 4)),
    "shadowColor": ("shadow_color", _color),
    "borderStyle": ("border_style", _border_style),
    "enableGlow": ("enable_glow", _boolean),
    "glowBlur": ("glow_blur", lambda v: _number(v, 0, 10)),
    "adaptiveSizing": ("adaptive_sizing", _boolean),
}
