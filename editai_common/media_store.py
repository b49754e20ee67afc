"""The media store: uploads, intermediates and outputs, addressed by key.

Keys are relative, slash-separated names made by the services (`uploads/<uuid>.mp4`,
`clips/<clip>/final.mp4`); a client never supplies a filesystem path. The local
implementation keeps files under one directory and makes every write atomic: bytes
go to a hidden partial file that is renamed into place only when complete, and is
deleted on any failure, so a reader never sees half a file.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Protocol

from editai_common.errors import InvalidArgument, NotFound

_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*(/[A-Za-z0-9_][A-Za-z0-9_.\-]*)*$")
PARTIAL_DIR = ".partial"


def validate_key(key: str) -> str:
    if not key or len(key) > 512 or not _KEY_PATTERN.match(key) or ".." in key.split("/"):
        raise InvalidArgument(f"Invalid media key {key!r}.", reason="INVALID_MEDIA_KEY")
    return key


def new_key(folder: str, suffix: str = "") -> str:
    """A fresh unique key such as `uploads/3f2a….mp4`."""
    return validate_key(f"{folder}/{uuid.uuid4().hex}{suffix}")


class MediaWriter(Protocol):
    bytes_written: int

    async def write(self, chunk: bytes) -> None: ...


class MediaStore(Protocol):
    """What the services need from storage; a directory today, object storage later."""

    def local_path(self, key: str) -> Path: ...

    def writer(self, key: str) -> AbstractAsyncContextManager[MediaWriter]: ...

    def temp_path(self, key: str) -> AbstractAsyncContextManager[Path]: ...

    async def exists(self, key: str) -> bool: ...

    async def size(self, key: str) -> int: ...

    async def delete(self, key: str) -> None: ...

    async def copy(self, source_key: str, target_key: str) -> None: ...

    async def delete_prefix(self, prefix: str) -> int: ...


class _FileWriter:
    def __init__(self, handle: object) -> None:
        self._handle = handle
        self.bytes_written = 0

    async def write(self, chunk: bytes) -> None:
        # A page-cache write of one chunk takes microseconds; a thread hop per
        # chunk would cost more than it saves. Large chunks go to a thread.
        if len(chunk) > 1 << 20:
            await asyncio.to_thread(self._handle.write, chunk)  # type: ignore[attr-defined]
        else:
            self._handle.write(chunk)  # type: ignore[attr-defined]
        self.bytes_written += len(chunk)


class LocalMediaStore:
    """Media store on a local (or shared, ReadWriteMany) directory."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        (self.root / PARTIAL_DIR).mkdir(parents=True, exist_ok=True)

    def local_path(self, key: str) -> Path:
        return self.root / validate_key(key)

    def partial_dir(self) -> Path:
        return self.root / PARTIAL_DIR

    @asynccontextmanager
    async def writer(self, key: str) -> AsyncIterator[_FileWriter]:
        """Write `key` atomically: visible only if the block completes without error."""
        final = self.local_path(key)
        partial = self.partial_dir() / f"{uuid.uuid4().hex}.part"
        handle = await asyncio.to_thread(open, partial, "wb", buffering=1 << 20)
        try:
            writer = _FileWriter(handle)
            yield writer
            handle.close()
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(partial, final)
        finally:
            if not handle.closed:
                handle.close()
            partial.unlink(missing_ok=True)

    @asynccontextmanager
    async def temp_path(self, key: str) -> AsyncIterator[Path]:
        """A path for a tool (ffmpeg) to write into; published at `key` only on success."""
        final = self.local_path(key)
        partial = self.partial_dir() / f"{uuid.uuid4().hex}{final.suffix}"
        try:
            yield partial
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(partial, final)
        finally:
            partial.unlink(missing_ok=True)

    async def exists(self, key: str) -> bool:
        return self.local_path(key).is_file()

    async def size(self, key: str) -> int:
        try:
            return self.local_path(key).stat().st_size
        except FileNotFoundError:
            raise NotFound(f"Media {key} does not exist.", reason="MEDIA_NOT_FOUND") from None

    async def delete(self, key: str) -> None:
        self.local_path(key).unlink(missing_ok=True)

    async def copy(self, source_key: str, target_key: str) -> None:
        """Gives `target_key` the bytes of `source_key`, atomically; a hard link when possible.

        Used where one owner's file must outlive another's eviction (a job's
        voiceover taken from the shared TTS cache).
        """
        source = self.local_path(source_key)
        if not source.is_file():
            raise NotFound(f"Media {source_key} does not exist.", reason="MEDIA_NOT_FOUND")
        async with self.temp_path(target_key) as partial:
            try:
                os.link(source, partial)
            except OSError:
                await asyncio.to_thread(shutil.copyfile, source, partial)

    async def delete_prefix(self, prefix: str) -> int:
        """Deletes every file under a folder key; returns how many were removed."""
        folder = self.local_path(prefix.rstrip("/"))
        if folder.is_file():
            folder.unlink()
            return 1
        if not folder.is_dir():
            return 0
        count = sum(1 for p in folder.rglob("*") if p.is_file())
        await asyncio.to_thread(shutil.rmtree, folder, True)
        return count
