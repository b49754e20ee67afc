"""Bring any source frame to the vertical output frame.

Rotation: ffmpeg applies the display matrix (autorotate) while decoding, so a phone
video shot sideways arrives upright; what is left to normalise is the size. A source
close to the target aspect is scaled to cover and centre-cropped; a source far from
it (landscape into portrait) can instead keep the whole picture over a blurred,
cropped copy of itself ("blurred pad").
"""

from __future__ import annotations

import enum


class FrameFit(enum.Enum):
    CROP = "crop"
    BLUR_PAD = "blur_pad"


def display_size(width: int, height: int, rotation: int) -> tuple[int, int]:
    """The size a viewer sees: a 90/270° rotation swaps width and height."""
    return (height, width) if rotation % 180 == 90 else (width, height)


def fit_graph(source: str, output: str, width: int, height: int, fps: int, fit: FrameFit = FrameFit.CROP) -> str:
    """A filter_complex fragment from label `source` to label `output`: any frame →
    width x height at `fps`, square pixels, yuv420p."""
    tail = f"setsar=1,fps={fps},format=yuv420p"
    if fit is FrameFit.CROP:
        return (
            f"[{source}]scale={width}:{height}:force_original_aspect_ratio=increase,"
            f"crop={width}:{height},{tail}[{output}]"
        )
    # The background is blurred at a quarter size: as soft, and 16x cheaper.
    small_w, small_h = width // 4, height // 4
    bg, fg, bgs, fgs = (f"{output}_{name}" for name in ("bg", "fg", "bgs", "fgs"))
    return (
        f"[{source}]split=2[{bg}][{fg}];"
        f"[{bg}]scale={small_w}:{small_h}:force_original_aspect_ratio=increase,crop={small_w}:{small_h},"
        f"boxblur=10:2,scale={width}:{height}[{bgs}];"
        f"[{fg}]scale={width}:{height}:force_original_aspect_ratio=decrease[{fgs}];"
        f"[{bgs}][{fgs}]overlay=(W-w)/2:(H-h)/2,{tail}[{output}]"
    )


def choose_fit(source_width: int, source_height: int, rotation: int, width: int, height: int) -> FrameFit:
    """Crop when cropping keeps at least 60% of the picture, else blurred pad."""
    shown_w, shown_h = display_size(source_width, source_height, rotation)
    if shown_w <= 0 or shown_h <= 0:
        return FrameFit.CROP
    source_aspect = shown_w / shown_h
    target_aspect = width / height
    kept = min(source_aspect, target_aspect) / max(source_aspect, target_aspect)
    return FrameFit.CROP if kept >= 0.6 else FrameFit.BLUR_PAD
