"""The final render: pieces of video + voiceover + subtitles → a finished clip.

Two ffmpeg passes (three for peaky audio), and the reason for each:

1. loudness measurement (audio only): two-pass loudnorm needs the integrated
   loudness of the whole mix before it can apply one linear gain; this pass decodes
   audio only and costs a few percent of the encode.
1b. only when that gain would push peaks over −1.5 dBTP (typical of speech): one or
   two more audio-only passes measure the mix after gain + peak limiter, to correct
   the gain until the target is met.
2. the render: every piece scaled/cropped to 1080x1920 and joined, picture filters,
   subtitles burned with libass, voiceover mixed (over the ducked or quieted source
   when asked), linear loudnorm with the measured values, the preset's encode and
   `+faststart` — one decode and one encode of the video.

The output is written to a media-store temp path and published only when ffmpeg
succeeded; a failure or a cancel (ffmpeg is killed) leaves nothing behind.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from editai_common.errors import InvalidArgument
from editai_common.ffmpeg import ProgressCallback, run_ffmpeg
from editai_common.media_store import MediaStore
from services.render.media.filtergraph import escape_path
from services.render.media.filters import VideoFilters
from services.render.media.loudness import plan_loudness
from services.render.media.normalize import FrameFit
from services.render.media.presets import RenderPreset
from services.render.media.segments import (
    Piece,
    SourceRange,
    audio_concat_graph,
    fill_duration,
    piece_inputs,
    pieces_duration,
    video_concat_graph,
)

# Share of the progress bar the measurement pass takes (it is audio only).
_MEASURE_SHARE = 0.05


@dataclass(frozen=True)
class FinalRender:
    """What to render. `pieces` already add up to `duration` (see `fit_video`)."""

    pieces: Sequence[Piece]
    duration: float
    preset: RenderPreset
    voiceover: Path | None = None
    subtitles: Path | None = None  # an ASS file
    fonts_dir: Path | None = None
    filters: VideoFilters = field(default_factory=VideoFilters)
    # Source audio under the voiceover: 0 drops it; without a voiceover it is the programme.
    source_gain: float = 0.0
    mute_source_speech: bool = False
    fit: FrameFit = FrameFit.CROP

    @property
    def uses_source_audio(self) -> bool:
        return self.voiceover is None or self.source_gain > 0


def fit_video(primary: Sequence[SourceRange], extra: Sequence[SourceRange], duration: float) -> list[Piece]:
    """Pieces lasting exactly `duration`: the primary video trimmed when longer, extended
    with the extra ranges (e.g. the project's segments) when shorter, and looped as a
    last resort when even all of them are too short."""
    if duration <= 0:
        raise InvalidArgument("The voiceover is empty.", reason="EMPTY_AUDIO")
    ranges = [*primary, *extra]
    pieces = fill_duration(ranges, duration)
    if pieces_duration(pieces) < duration - 1e-3:
        pieces = fill_duration(ranges, duration, loop=True)
    if not pieces:
        raise InvalidArgument("There is no video to render.", reason="EMPTY_VIDEO")
    return pieces


def _inputs(render: FinalRender, *, audio_only: bool = False) -> list[str]:
    """Piece inputs then the voiceover; the audio-only pass skips pieces it does not hear."""
    args = piece_inputs(render.pieces) if render.uses_source_audio or not audio_only else []
    if render.voiceover is not None:
        args += ["-i", str(render.voiceover)]
    return args


def _audio_mix_graph(render: FinalRender, *, audio_only: bool = False) -> str:
    """Inputs → `[mix]`: voiceover, source audio, or the voiceover over quieted source."""
    preset = render.preset
    parts: list[str] = []
    audio_format = f"aresample={preset.sample_rate},aformat=sample_fmts=fltp:channel_layouts=stereo"
    length = f"{render.duration:.3f}"
    if render.uses_source_audio:
        parts.append(audio_concat_graph(render.pieces, preset, mute_speech=render.mute_source_speech, output="src"))
    if render.voiceover is None:
        parts.append("[src]anull[mix]")
    else:
        voice_input = 0 if audio_only and not render.uses_source_audio else len(render.pieces)
        voice = f"[{voice_input}:a]{audio_format},apad,atrim=0:{length}"
        if render.source_gain > 0:
            parts.append(f"{voice}[voice]")
            parts.append(f"[src]volume={render.source_gain:.4f}[bed]")
            parts.append("[voice][bed]amix=inputs=2:duration=first:normalize=0[mix]")
        else:
            parts.append(f"{voice}[mix]")
    return ";".join(parts)


def _video_graph(render: FinalRender) -> str:
    chain = [*render.filters.chain()]
    if render.subtitles is not None:
        option = f"ass=filename={escape_path(render.subtitles)}"
        if render.fonts_dir is not None:
            option += f":fontsdir={escape_path(render.fonts_dir)}"
        chain.append(option)
    chain.append("format=yuv420p")
    return f"{video_concat_graph(render.pieces, render.preset, fit=render.fit)};[vcat]{','.join(chain)}[vout]"


def render_command(render: FinalRender, output: Path, loudness_chain: str) -> list[str]:
    """The ffmpeg arguments of the render pass, `loudness_chain` normalising the mix."""
    loudnorm = loudness_chain
    graph = ";".join(
        (_video_graph(render), _audio_mix_graph(render), f"[mix]{loudnorm},atrim=0:{render.duration:.3f}[aout]")
    )
    return [
        *_inputs(render),
        "-filter_complex", graph,
        "-map", "[vout]", "-map", "[aout]",
        *render.preset.output_args(),
        "-t", f"{render.duration:.3f}",
        str(output),
    ]  # fmt: skip


@dataclass(frozen=True)
class FinalRenderResult:
    output_key: str
    passes: tuple[tuple[str, float], ...]  # (pass name, seconds)


async def render_final(
    render: FinalRender,
    store: MediaStore,
    output_key: str,
    *,
    time_limit: float,
    on_progress: ProgressCallback | None = None,
) -> FinalRenderResult:
    """Render and publish `output_key`; raises InvalidArgument (e.g. SILENT_AUDIO),
    FfmpegFailed, DeadlineExceeded or CancelledError, and then publishes nothing."""
    deadline = time.monotonic() + time_limit
    passes: list[tuple[str, float]] = []

    started = time.monotonic()
    preset = render.preset
    try:
        plan = await plan_loudness(
            _inputs(render, audio_only=True),
            _audio_mix_graph(render, audio_only=True),
            preset.loudness,
            sample_rate=preset.sample_rate,
            time_limit=time_limit,
        )
        chain, measure_passes = plan.chain, plan.passes
    except InvalidArgument as error:
        # A silent voiceover is an error; a silent source (no voiceover) simply stays silent.
        if error.reason != "SILENT_AUDIO" or render.voiceover is not None:
            raise
        chain, measure_passes = f"aresample={preset.sample_rate}", 1
    name = "loudness measurement" if measure_passes == 1 else f"loudness measurement x{measure_passes} (limiter)"
    passes.append((name, time.monotonic() - started))
    if on_progress is not None:
        await on_progress(_MEASURE_SHARE)

    async def render_progress(fraction: float) -> None:
        if on_progress is not None:
            await on_progress(_MEASURE_SHARE + (1 - _MEASURE_SHARE) * fraction)

    started = time.monotonic()
    async with store.temp_path(output_key) as partial:
        await run_ffmpeg(
            render_command(render, partial, chain),
            time_limit=max(1.0, deadline - time.monotonic()),
            expected_seconds=render.duration,
            on_progress=render_progress,
        )
    passes.append(("render", time.monotonic() - started))
    return FinalRenderResult(output_key, tuple(passes))
