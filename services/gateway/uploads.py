"""Multipart uploads streamed straight into the media store, counted as they arrive.

FastAPI's `UploadFile`/`Form` spool the whole body before the handler runs, so the
upload endpoints read `request.stream()` themselves and feed python-multipart's
push parser. File parts go chunk by chunk into `LocalMediaStore.writer(key)` (atomic:
nothing is visible until complete); text fields are kept in memory, each capped.

Limits (guarantee 7): the body is counted while it streams; once the count passes
the limit the upload stops with 413 and the partial files are deleted. Memory stays
at one coalesced chunk whatever the size. Each file's first bytes are sniffed, so a
non-media file is refused (415) after a few bytes, not after the whole upload.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import PurePath

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from editai_common.media_store import LocalMediaStore, MediaWriter, new_key
from services.gateway.errors import ApiError
from services.gateway.media_sniff import SNIFF_BYTES, MediaKind, matches
from services.gateway.upload_limit import UPLOAD_TOO_LARGE, too_large_detail

MAX_TEXT_FIELD_BYTES = 1024 * 1024
# The parser is pure Python: feeding it bigger pieces keeps the per-chunk overhead low,
# at the price of one copy; uvicorn's reads are up to 256 KiB, so small ones are joined.
COALESCE_BYTES = 128 * 1024
# Disk writes happen in a worker thread, one block in flight while the next is received
# (double buffering): the event loop never blocks on the disk and socket and disk overlap.
# Memory per upload stays about two blocks plus one coalesced chunk.
WRITE_BLOCK_BYTES = 4 * 1024 * 1024
_SUFFIXES = {MediaKind.VIDEO: ".mp4", MediaKind.AUDIO: ".audio", MediaKind.SUBTITLES: ".srt"}
_KNOWN_SUFFIXES = {
    ".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".flv",
    ".mp3", ".wav", ".m4a", ".aac", ".ogg", ".opus", ".flac", ".srt",
}  # fmt: skip


@dataclass(frozen=True)
class FileField:
    """A multipart field that carries a file of one kind."""

    name: str
    kind: MediaKind
    required: bool = False


@dataclass(frozen=True)
class StoredFile:
    field: str
    key: str
    filename: str
    size: int


@dataclass
class ReceivedForm:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, StoredFile] = field(default_factory=dict)


def _suffix(filename: str, kind: MediaKind) -> str:
    suffix = PurePath(filename).suffix.lower()
    return suffix if suffix in _KNOWN_SUFFIXES else _SUFFIXES[kind]


def _boundary(request: Request) -> bytes:
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or not options.get(b"boundary"):
        raise ApiError(415, "Uploads must be sent as multipart/form-data.", reason="UNSUPPORTED_CONTENT_TYPE")
    return options[b"boundary"]


class _BackgroundWriter:
    """Collects a part's bytes into blocks and writes each in a thread while the next one fills."""

    def __init__(self, writer: MediaWriter) -> None:
        self._writer = writer
        self._blocks: list[bytes | memoryview] = []
        self._size = 0
        self._in_flight: asyncio.Future[None] | None = None

    async def write(self, chunk: bytes | memoryview) -> None:
        self._blocks.append(chunk)
        self._size += len(chunk)
        if self._size >= WRITE_BLOCK_BYTES:
            await self._flush()

    async def _flush(self) -> None:
        if self._in_flight is not None:
            await self._in_flight  # at most one block waits for the disk
            self._in_flight = None
        if not self._size:
            return
        block = b"".join(self._blocks)
        self._blocks, self._size = [], 0
        # MediaWriter.write sends blocks over 1 MiB to a thread; smaller tails are written inline.
        self._in_flight = asyncio.ensure_future(self._writer.write(block))

    async def finish(self) -> None:
        """Everything written (raises what the disk raised)."""
        await self._flush()
        await self.drain()

    async def drain(self) -> None:
        """Waits for the block in flight, so the file is never closed under a writing thread."""
        if self._in_flight is not None:
            in_flight, self._in_flight = self._in_flight, None
            with contextlib.suppress(Exception):
                await asyncio.shield(in_flight)
            if not in_flight.cancelled() and in_flight.exception() is not None:
                raise in_flight.exception()  # type: ignore[misc]


class _PartSink:
    """Where the bytes of the part being parsed go: a media store writer, or a text buffer."""

    def __init__(self, name: str, filename: str, spec: FileField | None) -> None:
        self.name = name
        self.filename = filename
        self.spec = spec
        self.text = bytearray()
        self.head = bytearray()
        self.writer: _BackgroundWriter | None = None
        self.media: MediaWriter | None = None
        self.key = ""
        self.checked = spec is None


class _StreamingForm:
    """Drives the push parser; its callbacks only record, the async side does the I/O."""

    def __init__(self, store: LocalMediaStore, files: dict[str, FileField], stack: AsyncExitStack) -> None:
        self.store = store
        self.specs = files
        self.stack = stack
        self.form = ReceivedForm()
        self.events: list[tuple[str, bytes | memoryview]] = []
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self.current: _PartSink | None = None

    def callbacks(self) -> dict[str, Callable[..., None]]:
        def part_begin() -> None:
            self._headers = {}

        def header_field(data: bytes, start: int, end: int) -> None:
            self._header_field += data[start:end]

        def header_value(data: bytes, start: int, end: int) -> None:
            self._header_value += data[start:end]

        def header_end() -> None:
            self._headers[bytes(self._header_field).lower()] = bytes(self._header_value)
            self._header_field.clear()
            self._header_value.clear()

        def headers_finished() -> None:
            self.events.append(("begin", self._headers.get(b"content-disposition", b"")))

        def part_data(data: bytes, start: int, end: int) -> None:
            # A view, not a copy: the chunk stays alive until its events are applied.
            self.events.append(("data", memoryview(data)[start:end]))

        def part_end() -> None:
            self.events.append(("end", b""))

        return {
            "on_part_begin": part_begin,
            "on_header_field": header_field,
            "on_header_value": header_value,
            "on_header_end": header_end,
            "on_headers_finished": headers_finished,
            "on_part_data": part_data,
            "on_part_end": part_end,
        }

    async def apply_events(self) -> None:
        events, self.events = self.events, []
        for kind, payload in events:
            if kind == "begin":
                self._begin(bytes(payload))
            elif kind == "data":
                await self._data(payload)
            else:
                await self._end()

    def _begin(self, disposition: bytes) -> None:
        _, options = parse_options_header(disposition)
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename", b"").decode("utf-8", "replace")
        self.current = _PartSink(name, filename, self.specs.get(name))

    async def _data(self, chunk: bytes | memoryview) -> None:
        part = self.current
        if part is None:
            return
        if part.spec is None:
            part.text += chunk
            if len(part.text) > MAX_TEXT_FIELD_BYTES:
                raise ApiError(400, f"Form field {part.name} is larger than 1 MiB.", reason="FIELD_TOO_LARGE")
            return
        if not part.checked:
            part.head += chunk
            if len(part.head) < SNIFF_BYTES:
                return
            await self._start_file(part)
            chunk, part.head = bytes(part.head), bytearray()
        assert part.writer is not None
        await part.writer.write(chunk)

    async def _start_file(self, part: _PartSink) -> None:
        assert part.spec is not None
        if not matches(part.spec.kind, bytes(part.head)):
            what = {MediaKind.SUBTITLES: "an SRT text file"}.get(part.spec.kind, f"a {part.spec.kind} file")
            raise ApiError(
                415,
                f"The {part.name} upload is not {what} this service can read.",
                reason="UNSUPPORTED_MEDIA_TYPE",
            )
        part.checked = True
        part.key = new_key("uploads", _suffix(part.filename, part.spec.kind))
        part.media = await self.stack.enter_async_context(self.store.writer(part.key))
        part.writer = _BackgroundWriter(part.media)
        # Unwinds before the file closes, on success and on failure alike.
        self.stack.push_async_callback(part.writer.drain)

    async def _end(self) -> None:
        part, self.current = self.current, None
        if part is None:
            return
        if part.spec is None:
            self.form.fields[part.name] = part.text.decode("utf-8", "replace")
            return
        if not part.checked:
            if not part.head:
                return  # an empty file input (no file chosen) counts as absent
            await self._start_file(part)
            assert part.writer is not None
            await part.writer.write(bytes(part.head))
        assert part.writer is not None and part.media is not None
        await part.writer.finish()
        self.form.files[part.name] = StoredFile(part.name, part.key, part.filename, part.media.bytes_written)


async def _coalesced(request: Request) -> AsyncIterator[bytes]:
    pending: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        if not pending and len(chunk) >= COALESCE_BYTES:
            yield chunk  # big enough already: no copy
            continue
        pending.append(chunk)
        size += len(chunk)
        if size >= COALESCE_BYTES:
            yield b"".join(pending)
            pending, size = [], 0
    if pending:
        yield b"".join(pending)


@asynccontextmanager
async def receive_upload(
    request: Request, store: LocalMediaStore, files: list[FileField], *, limit_bytes: int
) -> AsyncIterator[ReceivedForm]:
    """Streams the multipart body into the store; the files are deleted if the block fails."""
    boundary = _boundary(request)
    async with AsyncExitStack() as stack:
        form = _StreamingForm(store, {f.name: f for f in files}, stack)
        parser = MultipartParser(boundary, form.callbacks())  # type: ignore[arg-type]
        received = 0
        try:
            async for chunk in _coalesced(request):
                received += len(chunk)
                if received > limit_bytes:
                    raise ApiError(413, too_large_detail(limit_bytes), reason=UPLOAD_TOO_LARGE)
                parser.write(chunk)
                await form.apply_events()
            parser.finalize()
            await form.apply_events()
        except MultipartParseError as exc:
            raise ApiError(400, f"The multipart body is malformed: {exc}", reason="MALFORMED_MULTIPART") from None
        except ClientDisconnect:
            raise ApiError(400, "The client disconnected during the upload.", reason="CLIENT_DISCONNECTED") from None
        if form.current is not None:
            raise ApiError(400, "The multipart body ended inside a part.", reason="MALFORMED_MULTIPART")
    # Every writer has committed here; from now on the files are ours to clean up on failure.
    received_form = form.form
    missing = [f.name for f in files if f.required and f.name not in received_form.files]
    try:
        if missing:
            raise ApiError(400, f"Missing file field: {', '.join(missing)}.", reason="MISSING_FILE")
        yield received_form
    except BaseException:
        for stored in received_form.files.values():
            with contextlib.suppress(OSError):
                await store.delete(stored.key)
        raise
