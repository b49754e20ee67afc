"""Probing beyond `editai_common.ffmpeg.probe_media`: the display rotation.

Phones record sideways and store a display matrix; the shared probe reads only the
legacy `rotate` tag, and PyAV exposes the matrix on decoded frames. Decoding one
frame (in a thread) answers it for any file. ffmpeg applies the same matrix while
decoding (autorotate), so the picture arrives upright; the rotation only decides
what shape the source has on screen (crop vs blurred pad).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from editai_common.ffmpeg import MediaInfo


def _first_frame_rotation(path: Path) -> int:
    import av

    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.video:
                return 0
            for frame in container.decode(video=0):
                return int(getattr(frame, "rotation", 0) or 0) % 360
    except (av.FFmpegError, ValueError):
        return 0
    return 0


async def display_rotation(path: Path, info: MediaInfo | None = None) -> int:
    """Degrees (0/90/180/270) the player turns the picture; 0 when unknown."""
    if info is not None and info.rotation:
        return info.rotation
    return await asyncio.to_thread(_first_frame_rotation, path)
