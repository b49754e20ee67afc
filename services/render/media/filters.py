"""Picture filters a user can switch on for the final render, validated to range.

Each filter maps to one ffmpeg filter: denoise → hqdn3d, sharpen → unsharp,
colour → eq. Out-of-range or non-finite values are refused with one field
violation per bad field (named as the REST form fields are).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from editai_common.errors import FieldViolation, invalid_fields

DENOISE_RANGE = (0.0, 10.0)
SHARPEN_RANGE = (0.0, 3.0)
BRIGHTNESS_RANGE = (-1.0, 1.0)
CONTRAST_RANGE = (0.0, 3.0)
SATURATION_RANGE = (0.0, 3.0)


@dataclass(frozen=True)
class VideoFilters:
    enable_denoise: bool = False
    denoise_strength: float = 0.0
    enable_sharpen: bool = False
    sharpen_amount: float = 0.0
    enable_color: bool = False
    brightness: float = 0.0
    # 0 means "unset" on the wire (proto3 default) and reads as neutral 1.0.
    contrast: float = 1.0
    saturation: float = 1.0

    def __post_init__(self) -> None:
        violations = []
        for name, (low, high) in (
            ("denoise_strength", DENOISE_RANGE),
            ("sharpen_amount", SHARPEN_RANGE),
            ("brightness", BRIGHTNESS_RANGE),
            ("contrast", CONTRAST_RANGE),
            ("saturation", SATURATION_RANGE),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                violations.append(FieldViolation(name, "must be a finite number"))
            elif not low <= value <= high:
                violations.append(FieldViolation(name, f"must be between {low:g} and {high:g}, got {value:g}"))
        if violations:
            raise invalid_fields(violations, reason="FILTER_OUT_OF_RANGE")

    @classmethod
    def from_request(
        cls,
        *,
        enable_denoise: bool = False,
        denoise_strength: float = 0.0,
        enable_sharpen: bool = False,
        sharpen_amount: float = 0.0,
        enable_color: bool = False,
        brightness: float = 0.0,
        contrast: float = 0.0,
        saturation: float = 0.0,
    ) -> VideoFilters:
        """From wire values, where an unset contrast/saturation arrives as 0."""
        return cls(
            enable_denoise=enable_denoise,
            denoise_strength=denoise_strength,
            enable_sharpen=enable_sharpen,
            sharpen_amount=sharpen_amount,
            enable_color=enable_color,
            brightness=brightness,
            contrast=contrast or 1.0,
            saturation=saturation or 1.0,
        )

    def chain(self) -> list[str]:
        """The enabled filters in the order they should run (denoise before sharpen)."""
        parts: list[str] = []
        if self.enable_denoise and self.denoise_strength > 0:
            luma = self.denoise_strength
            # hqdn3d's usual proportions: chroma 3/4 of luma, temporal 1.5x spatial.
            parts.append(f"hqdn3d={luma:.3g}:{luma * 0.75:.3g}:{luma * 1.5:.3g}:{luma * 1.125:.3g}")
        if self.enable_sharpen and self.sharpen_amount > 0:
            parts.append(f"unsharp=5:5:{self.sharpen_amount:.3g}:5:5:0")
        if self.enable_color and (self.brightness != 0 or self.contrast != 1 or self.saturation != 1):
            parts.append(
                f"eq=brightness={self.brightness:.3g}:contrast={self.contrast:.3g}:saturation={self.saturation:.3g}"
            )
        return parts

    def filtergraph(self) -> str:
        """The chain as one filtergraph fragment; empty when nothing is enabled."""
        return ",".join(self.chain())
