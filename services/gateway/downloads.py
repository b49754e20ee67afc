"""Files from the media store as HTTP responses, with Range support (206 / 416).

Starlette's FileResponse reads in chunks through a thread and answers `Range`
requests itself (single and multiple ranges, 416 for unsatisfiable ones).
"""

from __future__ import annotations

import asyncio
from pathlib import PurePath

from starlette.responses import FileResponse

from editai_common.errors import InvalidArgument
from editai_common.media_store import LocalMediaStore
from services.gateway.errors import ApiError

CONTENT_TYPES = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
    ".mkv": "video/x-matroska",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".m4a": "audio/mp4",
    ".aac": "audio/aac",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".flac": "audio/flac",
    ".srt": "application/x-subrip",
    ".jpg": "image/jpeg",
    ".png": "image/png",
}


def content_type_for(key: str, fallback: str = "application/octet-stream") -> str:
    return CONTENT_TYPES.get(PurePath(key).suffix.lower(), fallback)


async def media_file(
    store: LocalMediaStore, key: str, *, filename: str, what: str, media_type: str | None = None
) -> FileResponse:
    """The stored file at `key`; 404 naming `what` when there is none (yet)."""
    if not key:
        raise ApiError(404, f"The {what} is not available yet.", reason="MEDIA_NOT_READY")
    try:
        path = store.local_path(key)
    except InvalidArgument:
        raise ApiError(404, f"The {what} is not available.", reason="MEDIA_NOT_FOUND") from None
    if not await asyncio.to_thread(path.is_file):
        raise ApiError(404, f"The {what} is no longer stored.", reason="MEDIA_NOT_FOUND")
    suffix = PurePath(key).suffix.lower()
    download_name = filename if PurePath(filename).suffix else f"{filename}{suffix}"
    content_type = media_type or content_type_for(key)
    if content_type == "application/x-subrip":
        content_type += "; charset=utf-8"
    return FileResponse(path, media_type=content_type, filename=download_name)
