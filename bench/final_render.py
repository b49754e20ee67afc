"""Final render vs the equivalent hand-written single ffmpeg command (DESIGN.md §7: ≤ 1.10×).

Input: ~10 s of generated 1920x1080 video with audio, a 10 s voiceover and subtitles
(one phrase a second). Both sides do the same work: scale/crop to 1080x1920, burn
the ASS subtitles, voiceover to −14 LUFS, the preset's H.264/AAC encode, +faststart.
The hand-written command uses single-pass loudnorm (one command cannot measure
first); the pipeline adds an audio-only measurement pass to normalise linearly.
Runs alternate (A B A B …) so machine noise hits both sides alike; best-of-N and
medians of wall time are compared, and ffmpeg CPU seconds as a noise-robust check.
"""

from __future__ import annotations

import asyncio
import resource
import statistics
import tempfile
import time
from pathlib import Path

from editai_common.ffmpeg import run_ffmpeg
from editai_common.media_store import LocalMediaStore
from services.render.media.final_render import FinalRender, fit_video, render_final
from services.render.media.loudness import measure_loudness
from services.render.media.phrases import Phrase
from services.render.media.presets import preset_named
from services.render.media.segments import SourceRange
from services.render.media.subtitle_style import SubtitleStyle
from services.render.media.subtitles import write_ass

SECONDS = 10.0
ROUNDS = 5

# Why each ffmpeg pass of the pipeline exists.
PASS_REASONS = {
    "loudness measurement": "two-pass loudnorm: the integrated loudness of the whole mix must be known before one "
    "linear gain can hit −14 LUFS without dynamic compression; audio only, so it is cheap (xN: peaky speech "
    "gets gain + peak limiter, and each extra audio-only pass re-measures to correct the gain)",
    "render": "the one decode + encode: fit, filters, subtitles, mix, loudnorm (linear), preset, faststart",
}


# Voiceovers: a steady one (one linear gain reaches −14 LUFS) and a peaky,
# speech-like one (quiet body, short loud transients: the limiter path).
VOICEOVERS = {
    "steady voiceover": "0.05*sin(2*PI*220*t)*(1+sin(2*PI*3*t))",
    "peaky speech-like voiceover": "0.06*sin(2*PI*200*t)+0.85*sin(2*PI*1500*t)*lt(mod(t,0.25),0.004)",
}


async def _make_inputs(workdir: Path) -> tuple[Path, dict[str, Path], Path]:
    source = workdir / "source.mp4"
    await run_ffmpeg(
        ["-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30:duration={SECONDS}",
         "-f", "lavfi", "-i", f"sine=frequency=300:sample_rate=48000:duration={SECONDS}",
         "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", "-c:a", "aac", source],
        time_limit=120,
    )  # fmt: skip
    voices: dict[str, Path] = {}
    for index, (name, expression) in enumerate(VOICEOVERS.items()):
        voices[name] = workdir / f"voice-{index}.wav"
        await run_ffmpeg(
            ["-f", "lavfi", "-i", f"aevalsrc='{expression}':sample_rate=44100:duration={SECONDS}",
             "-c:a", "pcm_s16le", voices[name]],
            time_limit=60,
        )  # fmt: skip
    phrases = [Phrase(f"Phrase number {i}", i + 0.05, i + 0.95) for i in range(int(SECONDS))]
    subtitles = write_ass(workdir / "subs.ass", phrases, SubtitleStyle(font_size=72, enable_glow=True, glow_blur=3))
    return source, voices, subtitles


def _hand_written(source: Path, voice: Path, subtitles: Path, output: Path) -> list[str]:
    preset = preset_named("tiktok")
    graph = (
        "[0:v]scale=1080:1920:force_original_aspect_ratio=increase,crop=1080:1920,setsar=1,fps=30,format=yuv420p,"
        f"ass=filename={subtitles}[v];"
        "[1:a]loudnorm=I=-14:TP=-1.5:LRA=11,aresample=48000[a]"
    )
    return [
        "-i", str(source), "-i", str(voice), "-filter_complex", graph, "-map", "[v]", "-map", "[a]",
        "-c:v", "libx264", "-preset", preset.x264_preset, "-crf", str(preset.crf), "-pix_fmt", "yuv420p",
        "-profile:v", "high", "-g", "60", "-keyint_min", "60", "-sc_threshold", "0", "-r", "30",
        "-c:a", "aac", "-b:a", "192k", "-ar", "48000", "-ac", "2", "-movflags", "+faststart",
        "-t", str(SECONDS), str(output),
    ]  # fmt: skip


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def _scenario(name: str, source: Path, voice: Path, subtitles: Path, workdir: Path) -> None:
    store = LocalMediaStore(workdir / "store")
    render = FinalRender(
        pieces=fit_video([SourceRange(source, 0, SECONDS)], [], SECONDS),
        duration=SECONDS,
        preset=preset_named("tiktok"),
        voiceover=voice,
        subtitles=subtitles,
    )
    ours: list[float] = []
    baseline: list[float] = []
    ours_cpu: list[float] = []
    baseline_cpu: list[float] = []
    passes: dict[str, list[float]] = {}
    for round_index in range(ROUNDS):
        started, cpu = time.monotonic(), _children_cpu()
        await run_ffmpeg(_hand_written(source, voice, subtitles, workdir / "hand.mp4"), time_limit=300)
        baseline.append(time.monotonic() - started)
        baseline_cpu.append(_children_cpu() - cpu)

        started, cpu = time.monotonic(), _children_cpu()
        result = await render_final(render, store, f"out/final-{round_index}.mp4", time_limit=300)
        ours.append(time.monotonic() - started)
        ours_cpu.append(_children_cpu() - cpu)
        for pass_name, seconds in result.passes:
            passes.setdefault(pass_name, []).append(seconds)

    ours_median, base_median = statistics.median(ours), statistics.median(baseline)
    ours_loudness = await measure_loudness(store.local_path("out/final-0.mp4"))
    hand_loudness = await measure_loudness(workdir / "hand.mp4")
    cpu_ours, cpu_base = statistics.median(ours_cpu), statistics.median(baseline_cpu)
    print(f"-- {name}: {SECONDS:.0f} s 1920x1080 30 fps source + {SECONDS:.0f} s voiceover + {int(SECONDS)} phrases")
    print(f"hand-written single command : median {base_median:6.2f} s  runs {[round(x, 2) for x in baseline]}")
    print(f"pipeline render_final       : median {ours_median:6.2f} s  runs {[round(x, 2) for x in ours]}")
    # Other work on a shared 2-core machine only ever adds time: the fastest run of each
    # side is the least disturbed one, so best-of-N is the fairest wall comparison.
    print(f"ratio pipeline / hand-written: best-of-{ROUNDS} {min(ours) / min(baseline):.3f}x, "
          f"median {ours_median / base_median:.3f}x wall  (target <= 1.10x)")  # fmt: skip
    print(f"ffmpeg CPU seconds (user+sys, less sensitive to a busy machine): pipeline {cpu_ours:.2f} s, "
          f"hand-written {cpu_base:.2f} s, ratio {cpu_ours / cpu_base:.3f}x")  # fmt: skip
    print(f"real-time factor (output seconds per wall second, best run): pipeline {SECONDS / min(ours):.2f}x, "
          f"hand-written {SECONDS / min(baseline):.2f}x")  # fmt: skip
    print(f"loudness (target -14 LUFS, TP <= -1.5): pipeline {ours_loudness.integrated_lufs:.1f} LUFS "
          f"TP {ours_loudness.true_peak_dbtp:.1f}; hand-written single-pass {hand_loudness.integrated_lufs:.1f} LUFS "
          f"TP {hand_loudness.true_peak_dbtp:.1f}")  # fmt: skip
    print("pipeline passes:")
    for pass_name, timings in passes.items():
        reason = PASS_REASONS.get(pass_name.split(" x")[0], "")
        print(f"  {pass_name:<36} median {statistics.median(timings):5.2f} s — {reason}")


async def _run() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-final-") as temp:
        workdir = Path(temp)
        source, voices, subtitles = await _make_inputs(workdir)
        for name, voice in voices.items():
            await _scenario(name, source, voice, subtitles, workdir)


def main() -> None:
    asyncio.run(_run())


if __name__ == "__main__":
    main()
