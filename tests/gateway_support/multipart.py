"""Multipart bodies built by hand, so tests control every byte (and can stream them)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

# The smallest bytes the gateway's sniffer takes for an MP4 (an ftyp box); render's probe is the real judge.
FAKE_MP4_HEAD = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + b"\x00" * 32


def encode(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    """A complete multipart/form-data body and its Content-Type."""
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        parts.append(value.encode() + b"\r\n")
    for name, (filename, content) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n".encode()
        )
        parts.append(content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


async def streamed_file(
    field: str, filename: str, head: bytes, total_bytes: int, chunk: int = 1 << 20
) -> tuple[AsyncIterator[bytes], str]:
    """A multipart body with one file of `total_bytes`, generated on the fly (never held in memory)."""
    boundary = uuid.uuid4().hex
    filler = b"\x00" * chunk

    async def body() -> AsyncIterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            f"Content-Type: video/mp4\r\n\r\n".encode()
        )
        yield head
        left = total_bytes - len(head)
        while left > 0:
            piece = filler if left >= chunk else filler[:left]
            left -= len(piece)
            yield piece
        yield f"\r\n--{boundary}--\r\n".encode()

    return body(), f"multipart/form-data; boundary={boundary}"
