"""Checks of job and library requests: every bad field is named (INVALID_ARGUMENT with violations)."""

from __future__ import annotations

import math
import re
from typing import Any

from editai_common.errors import FieldViolation, invalid_fields
from editai_common.media_store import validate_key

PRESET_NAMES = ("tiktok", "instagram_reels", "youtube_shorts", "facebook_reels", "instagram_story", "generic")
PROVIDERS = ("", "elevenlabs", "local")
SELECTION_MODES = ("random", "sequential", "weighted")
MAX_REQUEST_ID = 128
MAX_TEXT = 5000
_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")


class Violations:
    """Collects violations of one request; `raise_if_any()` at the end."""

    def __init__(self) -> None:
        self.items: list[FieldViolation] = []

    def add(self, field: str, description: str) -> None:
        self.items.append(FieldViolation(field, description))

    def require(self, field: str, value: str) -> None:
        if not value.strip():
            self.add(field, "is required")

    def number(self, field: str, value: float, low: float, high: float) -> None:
        if not math.isfinite(value) or not low <= value <= high:
            self.add(field, f"must be between {low:g} and {high:g}")

    def request_id(self, value: str) -> None:
        if len(value) > MAX_REQUEST_ID:
            self.add("request_id", f"must be at most {MAX_REQUEST_ID} characters")

    def media_key(self, field: str, value: str, *, required: bool = True) -> None:
        if not value:
            if required:
                self.add(field, "is required")
            return
        try:
            validate_key(value)
        except Exception:
            self.add(field, "is not a valid media key")

    def raise_if_any(self) -> None:
        if self.items:
            raise invalid_fields(self.items)


def variant_count(v: Violations, value: int, *, default: int) -> int:
    if value == 0:
        return default
    if not 1 <= value <= 10:
        v.add("variant_count", "must be between 1 and 10")
    return value


def duration(v: Violations, field: str, value: float, *, default: float) -> float:
    if value == 0:
        return default
    v.number(field, value, 1.0, 600.0)
    return value


# SubtitleStyle proto field → frontend key, and the range each accepts.
_STYLE_KEYS: dict[str, str] = {
    "font_size": "fontSize",
    "font_family": "fontFamily",
    "text_color": "textColor",
    "outline_color": "outlineColor",
    "outline_width": "outlineWidth",
    "position_y": "positionY",
    "shadow_depth": "shadowDepth",
    "shadow_color": "shadowColor",
    "border_style": "borderStyle",
    "enable_glow": "enableGlow",
    "glow_blur": "glowBlur",
    "adaptive_sizing": "adaptiveSizing",
}
_STYLE_RANGES = {"font_size": (8, 400), "outline_width": (0, 20), "position_y": (0, 100), "shadow_depth": (0, 4),
                 "glow_blur": (0, 10)}  # fmt: skip


def subtitle_settings(v: Violations, prefix: str, style: Any) -> dict[str, Any]:
    """The set fields of a SubtitleStyle message as the frontend's camelCase dict (validated)."""
    settings: dict[str, Any] = {}
    for name, key in _STYLE_KEYS.items():
        if not style.HasField(name):
            continue
        value = getattr(style, name)
        field = f"{prefix}.{name}"
        if name in _STYLE_RANGES:
            low, high = _STYLE_RANGES[name]
            v.number(field, float(value), low, high)
        elif name.endswith("_color") and not _COLOR.match(value):
            v.add(field, "must be a #RRGGBB color")
        elif name == "border_style" and value not in (1, 3):
            v.add(field, "must be 1 (outline) or 3 (box)")
        elif name == "font_family" and not value.strip():
            v.add(field, "must not be empty")
        settings[key] = value
    return settings


def filters(v: Violations, message: Any) -> dict[str, Any]:
    values = {
        "enable_denoise": message.enable_denoise,
        "denoise_strength": message.denoise_strength,
        "enable_sharpen": message.enable_sharpen,
        "sharpen_amount": message.sharpen_amount,
        "enable_color": message.enable_color,
        "brightness": message.brightness,
        "contrast": message.contrast or 1.0,
        "saturation": message.saturation or 1.0,
    }
    v.number("filters.denoise_strength", values["denoise_strength"], 0.0, 10.0)
    v.number("filters.sharpen_amount", values["sharpen_amount"], 0.0, 3.0)
    v.number("filters.brightness", values["brightness"], -1.0, 1.0)
    v.number("filters.contrast", values["contrast"], 0.0, 3.0)
    v.number("filters.saturation", values["saturation"], 0.0, 3.0)
    return values


def preset(v: Violations, value: str) -> str:
    name = value.strip().lower() or "generic"
    if name not in PRESET_NAMES:
        v.add("preset_name", f"unknown preset {value!r}; use one of {', '.join(PRESET_NAMES)}")
    return name


def speech_text(v: Violations, field: str, value: str) -> str:
    text = value.strip()
    if not 1 <= len(text) <= MAX_TEXT:
        v.add(field, f"must be 1 to {MAX_TEXT} characters")
    return text


def page(v: Violations, page_size: int, page_token: str) -> tuple[int, int]:
    """(limit, offset) from a page size (0 = 100) and an opaque token (the offset)."""
    if page_size == 0:
        page_size = 100
    if not 1 <= page_size <= 500:
        v.add("page_size", "must be between 1 and 500")
    offset = 0
    if page_token:
        if not page_token.isdigit():
            v.add("page_token", "is not a token this service issued")
        else:
            offset = int(page_token)
    return page_size, offset


def next_token(offset: int, limit: int, got: int) -> str:
    return str(offset + limit) if got == limit else ""


def keywords(v: Violations, values: list[str]) -> list[str]:
    cleaned = [k.strip() for k in values if k.strip()]
    if len(cleaned) > 50 or any(len(k) > 100 for k in cleaned):
        v.add("keywords", "at most 50 keywords of at most 100 characters")
    return cleaned
