"""Subtitle files: user SRT in (sanitised), SRT and styled ASS out.

User SRT is untrusted text: it is parsed leniently (pysubs2), reduced to plain text
(no ASS override blocks or HTML tags survive, so a cue cannot move itself or load
anything), cues are sorted, empty or zero-length ones dropped and overlaps cut.

The ASS file sets PlayResX/PlayResY to the output frame (1080x1920), so a font size
or an outline width in the style means pixels of the finished video. Each cue is
placed with `\\an5\\pos(x,y)`: its centre sits at `positionY` percent from the top.
Glow is a second, blurred copy of the cue on the layer below.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pysubs2

from editai_common.errors import FieldViolation, invalid_fields
from services.render.media.phrases import Phrase
from services.render.media.subtitle_style import SubtitleStyle

MAX_SRT_CHARS = 200_000
MAX_CUES = 5_000
MAX_CUE_CHARS = 500
SIDE_MARGIN = 60
# Average advance of a bold sans-serif glyph, in em; for adaptive sizing only.
_AVERAGE_GLYPH_EM = 0.58
_MIN_ADAPTIVE_SCALE = 0.5
_TAG = re.compile(r"<[^>]{0,100}>")


def sanitize_srt(text: str, *, field: str = "srt_content") -> list[Phrase]:
    """Cues of a user SRT as plain-text phrases in time order, without overlaps."""
    if len(text) > MAX_SRT_CHARS:
        raise invalid_fields(
            [FieldViolation(field, f"must be at most {MAX_SRT_CHARS} characters")], reason="INVALID_SRT"
        )
    cleaned = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    if not cleaned.strip():
        return []
    try:
        parsed = pysubs2.SSAFile.from_string(cleaned, format_="srt")
    except (pysubs2.exceptions.Pysubs2Error, ValueError) as error:
        raise invalid_fields(
            [FieldViolation(field, f"is not valid SRT ({error.__class__.__name__})")], reason="INVALID_SRT"
        ) from None
    cues: list[Phrase] = []
    for event in parsed:
        if event.is_comment:
            continue
        plain = _TAG.sub("", event.plaintext)
        lines = [" ".join(line.split()) for line in plain.replace("{", "(").replace("}", ")").split("\n")]
        body = "\n".join(line for line in lines if line)[:MAX_CUE_CHARS]
        start, end = max(0, event.start) / 1000, max(0, event.end) / 1000
        if body and end > start:
            cues.append(Phrase(body, start, end))
    if not cues:
        raise invalid_fields([FieldViolation(field, "holds no subtitle cues")], reason="INVALID_SRT")
    if len(cues) > MAX_CUES:
        raise invalid_fields([FieldViolation(field, f"must hold at most {MAX_CUES} cues")], reason="INVALID_SRT")
    cues.sort(key=lambda c: (c.start, c.end))
    result: list[Phrase] = []
    for index, cue in enumerate(cues):
        end = cue.end
        if index + 1 < len(cues):
            end = min(end, cues[index + 1].start)
        if end > cue.start:
            result.append(Phrase(cue.text, cue.start, end))
    return result


def phrases_to_srt(phrases: Sequence[Phrase]) -> str:
    subs = pysubs2.SSAFile()
    for phrase in phrases:
        subs.append(
            pysubs2.SSAEvent(start=_ms(phrase.start), end=_ms(phrase.end), text=phrase.text.replace("\n", "\\N"))
        )
    return subs.to_string("srt")


def shift_phrases(phrases: Sequence[Phrase], *, limit: float) -> list[Phrase]:
    """Phrases cut to [0, limit): what remains visible in a video of that length."""
    kept = []
    for phrase in phrases:
        end = min(phrase.end, limit)
        if end > phrase.start:
            kept.append(Phrase(phrase.text, phrase.start, end))
    return kept


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _ass_color(hex_color: str, alpha: int = 0) -> pysubs2.Color:
    value = hex_color.lstrip("#")
    return pysubs2.Color(int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16), alpha)


def _ass_bgr(hex_color: str) -> str:
    value = hex_color.lstrip("#")
    return f"&H{value[4:6]}{value[2:4]}{value[0:2]}&".upper()


def cue_font_size(text: str, style: SubtitleStyle, width: int) -> int:
    """The font size for one cue: the style's, shrunk when adaptive sizing is on and
    the longest line would not fit between the side margins."""
    if not style.adaptive_sizing:
        return style.font_size
    longest = max((len(line) for line in text.split("\n")), default=0)
    estimated = longest * style.font_size * _AVERAGE_GLYPH_EM
    usable = width - 2 * SIDE_MARGIN
    if estimated <= usable:
        return style.font_size
    return max(round(style.font_size * _MIN_ADAPTIVE_SCALE), int(style.font_size * usable / estimated))


def cue_center_y(style: SubtitleStyle, height: int, font_size: int) -> int:
    """Pixel row of the cue's centre, kept far enough from the edges to stay visible."""
    wanted = style.position_y / 100 * height
    margin = font_size * 0.75 + style.outline_width
    return round(min(max(wanted, margin), height - margin))


def build_ass(
    phrases: Sequence[Phrase], style: SubtitleStyle, *, width: int = 1080, height: int = 1920
) -> pysubs2.SSAFile:
    subs = pysubs2.SSAFile()
    subs.info["PlayResX"] = str(width)
    subs.info["PlayResY"] = str(height)
    subs.info["ScaledBorderAndShadow"] = "yes"
    subs.info["WrapStyle"] = "0"
    subs.styles["Default"] = pysubs2.SSAStyle(
        fontname=style.font_family,
        fontsize=style.font_size,
        primarycolor=_ass_color(style.text_color),
        secondarycolor=_ass_color(style.text_color),
        outlinecolor=_ass_color(style.outline_color),
        backcolor=_ass_color(style.shadow_color, alpha=0x40),
        bold=True,
        borderstyle=style.border_style,
        outline=style.outline_width,
        shadow=style.shadow_depth,
        alignment=pysubs2.Alignment.MIDDLE_CENTER,
        marginl=SIDE_MARGIN,
        marginr=SIDE_MARGIN,
        marginv=0,
    )
    glow = style.enable_glow and style.glow_blur > 0
    for phrase in phrases:
        size = cue_font_size(phrase.text, style, width)
        position = f"\\an5\\pos({width // 2},{cue_center_y(style, height, size)})"
        size_tag = f"\\fs{size}" if size != style.font_size else ""
        text = phrase.text.replace("\n", "\\N")
        start, end = _ms(phrase.start), _ms(phrase.end)
        if glow:
            # Underneath: a wide, blurred, half-transparent halo in the text colour.
            halo = (
                f"{{{position}{size_tag}\\bord{style.outline_width + style.glow_blur * 1.5:.1f}\\shad0"
                f"\\blur{style.glow_blur * 2:.1f}\\3c{_ass_bgr(style.text_color)}\\3a&H60&\\1a&HFF&}}"
            )
            subs.append(pysubs2.SSAEvent(start=start, end=end, layer=0, text=halo + text))
        subs.append(pysubs2.SSAEvent(start=start, end=end, layer=1, text=f"{{{position}{size_tag}}}{text}"))
    return subs


def write_ass(
    path: Path, phrases: Sequence[Phrase], style: SubtitleStyle, *, width: int = 1080, height: int = 1920
) -> Path:
    path.write_text(build_ass(phrases, style, width=width, height=height).to_string("ass"), encoding="utf-8")
    return path
