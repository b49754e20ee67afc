"""The frontend's `subtitle_settings` (camelCase JSON) checked and turned into a SubtitleStyle.

Keys follow DESIGN.md §2 (they are the proto's JSON names). Unknown keys are ignored;
a wrong type or an out-of-range value is a violation naming the field. Types are
strict: `"48"` is not a font size and `true` is not a number.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError, field_validator

from editai.render.v1 import render_pb2
from editai_common.errors import FieldViolation
from services.gateway.errors import ApiError, invalid_fields

Colour = Annotated[str, Strict(), Field(pattern=r"^#[0-9A-Fa-f]{6}$")]
Number = Annotated[float, Strict()]

_GENERIC_FAMILIES = {
    "serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui", "emoji", "math", "fangsong",
    "ui-serif", "ui-sans-serif", "ui-monospace", "ui-rounded", "-apple-system", "blinkmacsystemfont", "inherit",
    "initial", "unset",
}  # fmt: skip


def first_font_family(css: str) -> str:
    """`"'Montserrat', Arial, sans-serif"` → `Montserrat`: the first family that is not a CSS keyword."""
    names = [part.strip().strip("'\"").strip() for part in css.split(",")]
    names = [name for name in names if name]
    real = [name for name in names if name.lower() not in _GENERIC_FAMILIES]
    return (real or names or [""])[0]


class SubtitleSettings(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    font_size: Annotated[int, Strict(), Field(ge=8, le=400)] | None = Field(None, alias="fontSize")
    font_family: Annotated[str, Strict(), Field(min_length=1, max_length=200)] | None = Field(None, alias="fontFamily")
    text_color: Colour | None = Field(None, alias="textColor")
    outline_color: Colour | None = Field(None, alias="outlineColor")
    outline_width: Annotated[Number, Field(ge=0, le=20)] | None = Field(None, alias="outlineWidth")
    position_y: Annotated[Number, Field(ge=0, le=100)] | None = Field(None, alias="positionY")
    shadow_depth: Annotated[Number, Field(ge=0, le=4)] | None = Field(None, alias="shadowDepth")
    shadow_color: Colour | None = Field(None, alias="shadowColor")
    border_style: Literal[1, 3] | None = Field(None, alias="borderStyle")
    enable_glow: Annotated[bool, Strict()] | None = Field(None, alias="enableGlow")
    glow_blur: Annotated[Number, Field(ge=0, le=10)] | None = Field(None, alias="glowBlur")
    adaptive_sizing: Annotated[bool, Strict()] | None = Field(None, alias="adaptiveSizing")

    @field_validator("font_family")
    @classmethod
    def _first_real_family(cls, value: str | None) -> str | None:
        if value is None:
            return None
        family = first_font_family(value)
        if not family:
            raise ValueError("names no font family")
        return family

    def to_proto(self) -> render_pb2.SubtitleStyle:
        return render_pb2.SubtitleStyle(**self.model_dump(exclude_none=True))


def violations_of(error: ValidationError, prefix: str) -> list[FieldViolation]:
    """One FieldViolation per failing field, named by its client-side (alias) path."""
    out = []
    for item in error.errors():
        path = ".".join(str(part) for part in item.get("loc", ()))
        out.append(FieldViolation(f"{prefix}.{path}" if path else prefix, str(item.get("msg", "invalid"))))
    return out


def parse_json_field(field: str, raw: str) -> Any:
    """JSON text of a form field; malformed → 400 `Invalid JSON in <field>: <parser message>`."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ApiError(
            400,
            f"Invalid JSON in {field}: {exc}",
            reason="INVALID_JSON",
            violations=[FieldViolation(field, f"invalid JSON: {exc}")],
        ) from None


def subtitle_settings_from_json(raw: str | None, field: str = "subtitle_settings") -> SubtitleSettings | None:
    """The checked settings of a JSON form field, None when absent or empty."""
    if raw is None or not raw.strip():
        return None
    return subtitle_settings_from_value(parse_json_field(field, raw), field)


def subtitle_settings_from_value(value: Any, field: str = "subtitle_settings") -> SubtitleSettings | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid_fields([FieldViolation(field, "must be a JSON object")])
    try:
        return SubtitleSettings.model_validate(value)
    except ValidationError as exc:
        raise invalid_fields(violations_of(exc, field)) from None
