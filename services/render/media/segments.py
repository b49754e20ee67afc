"""Choosing source pieces for a clip and joining them into one uniform video.

A *piece* is a time range of a source file placed at an offset of the output.
Selection modes (DESIGN.md §2):

    sequential  the project's order
    weighted    longest segments first (ties keep the project's order)
    random      a shuffle from a seeded generator (reproducible per variant)

Variant k starts k places further along the chosen order (cyclically), so variants
of one request differ while each keeps its mode's order. Pieces are added until
`target_duration` is reached; the last one is cut to fit.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from editai_common.errors import FieldViolation, InvalidArgument, invalid_fields
from editai_common.ffmpeg import ProgressCallback, run_ffmpeg
from services.render.media.normalize import FrameFit, fit_graph
from services.render.media.presets import RenderPreset
from services.render.media.speech_regions import Region, ducking_filter, shift_regions

MIN_PIECE_SECONDS = 0.1
_EPSILON = 1e-3


class SelectionMode(enum.Enum):
    RANDOM = "random"
    SEQUENTIAL = "sequential"
    WEIGHTED = "weighted"

    @classmethod
    def parse(cls, value: str) -> SelectionMode:
        try:
            return cls((value or "random").strip().lower())
        except ValueError:
            raise invalid_fields(
                [FieldViolation("selection_mode", "must be one of random, sequential, weighted")],
                reason="UNKNOWN_SELECTION_MODE",
            ) from None


@dataclass(frozen=True)
class SourceRange:
    """A usable range of one source file (a project segment, a raw clip)."""

    source: Path
    start: float
    end: float
    has_audio: bool = True
    label: str = ""  # e.g. the segment id, for tests and logs
    # Speech regions of the source (source time), ducked when muting the voice.
    speech: tuple[Region, ...] = ()

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Piece:
    """`range` cut to [start, end) of its source, placed at `offset` in the output."""

    range: SourceRange
    start: float
    end: float
    offset: float

    @property
    def duration(self) -> float:
        return self.end - self.start


def order_ranges(
    ranges: Sequence[SourceRange], mode: SelectionMode, *, variant_index: int = 0, seed: int = 0
) -> list[SourceRange]:
    """The ranges in the mode's order, rotated by the variant index."""
    if mode is SelectionMode.SEQUENTIAL:
        ordered = list(ranges)
    elif mode is SelectionMode.WEIGHTED:
        ordered = sorted(ranges, key=lambda r: -r.duration)  # stable: ties keep project order
    else:
        ordered = list(ranges)
        random.Random(seed * 1009 + variant_index).shuffle(ordered)
        return ordered
    if not ordered:
        return ordered
    shift = variant_index % len(ordered)
    return ordered[shift:] + ordered[:shift]


def fill_duration(ranges: Sequence[SourceRange], target_duration: float, *, loop: bool = False) -> list[Piece]:
    """Pieces from `ranges` in order until `target_duration`; the last is cut to fit.

    With `loop`, runs through the ranges again when one pass is too short (the last
    resort when fitting a video to a longer voiceover); else stops after one pass.
    Ranges shorter than MIN_PIECE_SECONDS are skipped; the final remainder may be
    shorter than that (the output must last exactly the target).
    """
    usable = [r for r in ranges if r.duration >= MIN_PIECE_SECONDS]
    pieces: list[Piece] = []
    total = 0.0
    while usable and total < target_duration - _EPSILON:
        for source_range in usable:
            remaining = target_duration - total
            if remaining <= _EPSILON:
                break
            take = min(source_range.duration, remaining)
            pieces.append(Piece(source_range, source_range.start, source_range.start + take, round(total, 4)))
            total += take
        if not loop:
            break
    return pieces


def select_pieces(
    ranges: Sequence[SourceRange],
    mode: SelectionMode,
    target_duration: float,
    *,
    variant_index: int = 0,
    seed: int = 0,
) -> list[Piece]:
    if not ranges:
        raise InvalidArgument("The project has no segments to build clips from.", reason="NO_SEGMENTS")
    return fill_duration(order_ranges(ranges, mode, variant_index=variant_index, seed=seed), target_duration)


def pieces_duration(pieces: Sequence[Piece]) -> float:
    return sum(p.duration for p in pieces)


def piece_inputs(pieces: Sequence[Piece]) -> list[str]:
    """`-ss/-t/-i` per piece: input seeking decodes only what the piece needs."""
    args: list[str] = []
    for piece in pieces:
        args += ["-ss", f"{piece.start:.3f}", "-t", f"{piece.duration:.3f}", "-i", str(piece.range.source)]
    return args


def video_concat_graph(
    pieces: Sequence[Piece], preset: RenderPreset, *, fit: FrameFit = FrameFit.CROP, output: str = "vcat"
) -> str:
    """Filter graph joining the video of piece inputs 0..n-1 into `[output]`, every piece
    first brought to the preset's frame so sources of any size, rate or rotation join."""
    parts = [fit_graph(f"{i}:v", f"v{i}", preset.width, preset.height, preset.fps, fit) for i in range(len(pieces))]
    labels = "".join(f"[v{i}]" for i in range(len(pieces)))
    parts.append(f"{labels}concat=n={len(pieces)}:v=1:a=0[{output}]")
    return ";".join(parts)


def audio_concat_graph(
    pieces: Sequence[Piece], preset: RenderPreset, *, mute_speech: bool = False, output: str = "acat"
) -> str:
    """Filter graph joining the audio of piece inputs 0..n-1 into `[output]`.

    Each piece is resampled to one format and padded/trimmed to exactly its length
    (so audio and video stay in step); a piece without audio contributes silence;
    with `mute_speech`, its speech regions are ducked to silence with short fades.
    """
    audio_format = f"aresample={preset.sample_rate},aformat=sample_fmts=fltp:channel_layouts=stereo"
    parts: list[str] = []
    for index, piece in enumerate(pieces):
        if piece.range.has_audio:
            duck = "anull"
            if mute_speech and piece.range.speech:
                # Input seeking restarts the piece's clock at 0 at piece.start.
                regions = shift_regions(
                    piece.range.speech, source_start=piece.start, source_end=piece.end, output_offset=0
                )
                duck = ducking_filter(regions, floor=0.0)
            chain = f"[{index}:a]{duck},{audio_format},apad,atrim=0:{piece.duration:.3f}"
        else:
            chain = f"anullsrc=r={preset.sample_rate}:cl=stereo,atrim=0:{piece.duration:.3f},{audio_format}"
        parts.append(f"{chain},asetpts=N/SR/TB[a{index}]")
    labels = "".join(f"[a{i}]" for i in range(len(pieces)))
    parts.append(f"{labels}concat=n={len(pieces)}:v=0:a=1[{output}]")
    return ";".join(parts)


async def render_pieces(
    pieces: Sequence[Piece],
    output: Path,
    preset: RenderPreset,
    *,
    time_limit: float,
    fit: FrameFit = FrameFit.CROP,
    mute_speech: bool = False,
    on_progress: ProgressCallback | None = None,
) -> None:
    """Encode the pieces, joined, as one uniform H.264/AAC file at `output`."""
    if not pieces:
        raise InvalidArgument("Nothing to render: no source pieces.", reason="EMPTY_SELECTION")
    duration = pieces_duration(pieces)
    graph = ";".join(
        (video_concat_graph(pieces, preset, fit=fit), audio_concat_graph(pieces, preset, mute_speech=mute_speech))
    )
    await run_ffmpeg(
        [
            *piece_inputs(pieces),
            "-filter_complex", graph,
            "-map", "[vcat]", "-map", "[acat]",
            *preset.output_args(),
            "-t", f"{duration:.3f}",
            output,
        ],
        time_limit=time_limit,
        expected_seconds=duration,
        on_progress=on_progress,
    )  # fmt: skip
