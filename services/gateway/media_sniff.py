"""Recognise media by its first bytes, so a text file or an executable is refused at once.

This is the gateway's cheap first look; the render service's probe (PyAV) is the
final judge of whether a file really decodes (UNSUPPORTED_MEDIA → 400).
"""

from __future__ import annotations

import codecs
import enum

SNIFF_BYTES = 64


class MediaKind(enum.StrEnum):
    VIDEO = "video"
    AUDIO = "audio"
    SUBTITLES = "subtitles"


_MP4_BOXES = (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")


def _is_isobmff(head: bytes) -> bool:
    return len(head) >= 8 and head[4:8] in _MP4_BOXES


def _is_matroska(head: bytes) -> bool:
    return head.startswith(b"\x1a\x45\xdf\xa3")


def _is_riff(head: bytes, form: bytes) -> bool:
    return head.startswith(b"RIFF") and head[8:12] == form


def _is_mpeg_audio(head: bytes) -> bool:
    # ID3 tag, or an MPEG audio / ADTS AAC frame sync (11 set bits).
    return head.startswith(b"ID3") or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)


def looks_like_video(head: bytes) -> bool:
    return _is_isobmff(head) or _is_matroska(head) or _is_riff(head, b"AVI ") or head.startswith(b"FLV")


def looks_like_audio(head: bytes) -> bool:
    return (
        _is_mpeg_audio(head)
        or _is_riff(head, b"WAVE")
        or _is_isobmff(head)  # m4a / aac in mp4
        or head.startswith((b"OggS", b"fLaC"))
        or _is_matroska(head)  # webm audio
    )


def looks_like_text(head: bytes) -> bool:
    """UTF-8 text without NUL bytes (an SRT file); the head may end inside a character."""
    if b"\x00" in head:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


_CHECKS = {MediaKind.VIDEO: looks_like_video, MediaKind.AUDIO: looks_like_audio, MediaKind.SUBTITLES: looks_like_text}


def matches(kind: MediaKind, head: bytes) -> bool:
    return _CHECKS[kind](head[:SNIFF_BYTES])
