"""Loudness: two-pass EBU R128 normalisation (loudnorm) and ebur128 measurement.

Single-pass loudnorm works dynamically (it compresses as it goes); the two-pass form
first measures the whole programme, then applies one linear gain (`linear=true`)
that lands on the target without pumping. The measurement pass reads audio only,
so it costs a fraction of the video encode.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from editai_common.errors import InvalidArgument
from editai_common.ffmpeg import run_ffmpeg
from services.render.media.presets import LoudnessTarget

# Below this the programme is silence: no gain can make it −14 LUFS.
SILENCE_LUFS = -70.0


@dataclass(frozen=True)
class LoudnormMeasurement:
    input_i: float
    input_tp: float
    input_lra: float
    input_thresh: float
    target_offset: float


def parse_loudnorm_json(stderr: str) -> LoudnormMeasurement:
    """The JSON block loudnorm prints with `print_format=json` (the last in the log)."""
    start, end = stderr.rfind("{"), stderr.rfind("}")
    if start < 0 or end < start:
        raise ValueError("loudnorm printed no measurement")
    data = json.loads(stderr[start : end + 1])

    def number(key: str) -> float:
        value = float(data[key])  # "-inf" parses to -inf
        return value

    return LoudnormMeasurement(
        input_i=number("input_i"),
        input_tp=number("input_tp"),
        input_lra=number("input_lra"),
        input_thresh=number("input_thresh"),
        target_offset=number("target_offset"),
    )


def _target_options(target: LoudnessTarget) -> str:
    return f"I={target.integrated_lufs}:TP={target.true_peak_dbtp}:LRA={target.loudness_range_lu}"


def measure_filter(target: LoudnessTarget) -> str:
    return f"loudnorm={_target_options(target)}:print_format=json"


def loudnorm_filter(target: LoudnessTarget, measured: LoudnormMeasurement | None, sample_rate: int) -> str:
    """Second-pass loudnorm with the measured values (or single-pass when None).

    loudnorm works at 192 kHz internally; resample back to the output rate.
    """
    options = _target_options(target)
    if measured is not None:
        options += (
            f":measured_I={measured.input_i:.2f}:measured_TP={measured.input_tp:.2f}"
            f":measured_LRA={measured.input_lra:.2f}:measured_thresh={measured.input_thresh:.2f}"
            f":offset={measured.target_offset:.2f}:linear=true"
        )
    return f"loudnorm={options}:print_format=none,aresample={sample_rate}"


async def measure_loudnorm(
    input_args: Sequence[str | Path],
    audio_graph: str,
    target: LoudnessTarget,
    *,
    time_limit: float,
    chain: str = "anull",
) -> LoudnormMeasurement:
    """Run a measurement pass over `audio_graph` (a filter_complex ending in `[mix]`),
    after `chain` when given."""
    run = await run_ffmpeg(
        [*input_args, "-filter_complex", f"{audio_graph};[mix]{chain},{measure_filter(target)}[measured]",
         "-map", "[measured]", "-vn", "-f", "null", "-"],
        time_limit=time_limit,
        loglevel="info",
    )  # fmt: skip
    measured = parse_loudnorm_json(run.stderr)
    if not math.isfinite(measured.input_i) or measured.input_i < SILENCE_LUFS:
        raise InvalidArgument("The audio is silent; there is nothing to normalise.", reason="SILENT_AUDIO")
    return measured


def linear_gain_fits(measured: LoudnormMeasurement, target: LoudnessTarget) -> bool:
    """Whether one linear gain reaches the target without pushing peaks over the ceiling."""
    gain = target.integrated_lufs - measured.input_i
    return measured.input_tp + gain <= target.true_peak_dbtp


_MAX_LIMITER_PASSES = 3
_LOUDNESS_TOLERANCE_LU = 0.4
# Headroom under the true-peak ceiling for the limiter: it limits 4x-oversampled
# sample peaks, a close stand-in for true peaks; AAC encoding adds a little more.
_LIMITER_MARGIN_DB = 1.0


def limiter_chain(gain_db: float, target: LoudnessTarget, sample_rate: int) -> str:
    """Gain, then a peak limiter at the ceiling (oversampled), back at the output rate."""
    ceiling = 10 ** ((target.true_peak_dbtp - _LIMITER_MARGIN_DB) / 20)
    return (
        f"volume={gain_db:.2f}dB,aresample=192000,"
        f"alimiter=limit={ceiling:.4f}:attack=2:release=20:level=disabled,aresample={sample_rate}"
    )


async def measure_integrated(
    input_args: Sequence[str | Path], audio_graph: str, chain: str, *, time_limit: float
) -> float:
    """Integrated loudness (LUFS) of `[mix]` after `chain`: ebur128 without true peak,
    cheaper than loudnorm's analysis when only the loudness is needed."""
    run = await run_ffmpeg(
        [*input_args, "-filter_complex", f"{audio_graph};[mix]{chain},ebur128=framelog=quiet[measured]",
         "-map", "[measured]", "-vn", "-f", "null", "-"],
        time_limit=time_limit,
        loglevel="info",
    )  # fmt: skip
    found = _INTEGRATED.search(run.stderr[run.stderr.rfind("Summary:") :])
    if found is None:
        raise ValueError("ebur128 printed no summary")
    return float(found.group(1))


@dataclass(frozen=True)
class LoudnessPlan:
    """The chain that brings the mix to the target, and the measurement passes it took."""

    chain: str
    passes: int
    limited: bool


async def plan_loudness(
    input_args: Sequence[str | Path],
    audio_graph: str,
    target: LoudnessTarget,
    *,
    sample_rate: int,
    time_limit: float,
) -> LoudnessPlan:
    """Measure the mix and choose how to normalise it.

    Usually one linear gain does it (loudnorm's second pass with `linear=true`). Speech
    is peaky: when that gain would push peaks over the ceiling, loudnorm would silently
    fall back to its dynamic mode, which misses the target on short clips. Instead the
    mix gets the gain plus a peak limiter; the limiter takes some loudness back (more
    as the gain grows), so audio-only passes measure the result and correct the gain
    by the secant method until within tolerance (usually one or two passes).
    """
    measured = await measure_loudnorm(input_args, audio_graph, target, time_limit=time_limit)
    if linear_gain_fits(measured, target):
        return LoudnessPlan(loudnorm_filter(target, measured, sample_rate), passes=1, limited=False)
    wanted = target.integrated_lufs
    # Points (gain, loudness): without the limiter, loudness = input + gain.
    previous = (0.0, measured.input_i)
    gain = wanted - measured.input_i
    passes = 1
    for _ in range(_MAX_LIMITER_PASSES):
        loudness = await measure_integrated(
            input_args, audio_graph, limiter_chain(gain, target, sample_rate), time_limit=time_limit
        )
        passes += 1
        if abs(wanted - loudness) <= _LOUDNESS_TOLERANCE_LU:
            break
        slope = (loudness - previous[1]) / (gain - previous[0]) if gain != previous[0] else 1.0
        # A limiter never makes louder than the gain asks: keep the slope in (0.1, 1].
        slope = min(1.0, max(0.1, slope))
        previous, gain = (gain, loudness), gain + (wanted - loudness) / slope
    return LoudnessPlan(limiter_chain(gain, target, sample_rate), passes=passes, limited=True)


@dataclass(frozen=True)
class LoudnessReport:
    integrated_lufs: float
    true_peak_dbtp: float


_INTEGRATED = re.compile(r"I:\s*(-?[0-9.]+|-inf)\s*LUFS")
_PEAK = re.compile(r"Peak:\s*(-?[0-9.]+|-inf)\s*dBFS")


async def measure_loudness(path: Path, *, time_limit: float = 60.0) -> LoudnessReport:
    """Integrated loudness and true peak of a file's audio, by ffmpeg's ebur128."""
    run = await run_ffmpeg(
        ["-i", path, "-vn", "-af", "ebur128=peak=true", "-f", "null", "-"], time_limit=time_limit, loglevel="info"
    )
    summary = run.stderr[run.stderr.rfind("Summary:") :]
    integrated = _INTEGRATED.search(summary)
    peak = _PEAK.search(summary)
    if integrated is None:
        raise ValueError("ebur128 printed no summary")
    return LoudnessReport(
        integrated_lufs=float(integrated.group(1)),
        true_peak_dbtp=float(peak.group(1)) if peak else math.nan,
    )
