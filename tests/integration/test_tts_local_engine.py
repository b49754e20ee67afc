"""The local engine (espeak-ng through ctypes) makes real speech with usable timings."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import pytest

from editai_common.ffmpeg import run_ffmpeg
from services.tts.errors import VoiceNotFound
from services.tts.providers.local_espeak import LocalEspeakProvider
from services.tts.speech import SpeechRequest, VoiceSettings

TEXT = "The quick brown fox jumps over the lazy dog. Then it takes a long nap in the sun."


def speech(text: str = TEXT, voice: str = "en-us", speed: float = 1.0) -> SpeechRequest:
    return SpeechRequest(text, voice, "espeak-ng", VoiceSettings(speed=speed))


async def loudness(path: Path) -> tuple[float, float]:
    """(mean, max) volume in dB, as ffmpeg's volumedetect measures it."""
    run = await run_ffmpeg(["-i", path, "-af", "volumedetect", "-f", "null", "-"], time_limit=30, loglevel="info")
    mean = float(re.search(r"mean_volume:\s*(-?[0-9.]+) dB", run.stderr).group(1))  # type: ignore[union-attr]
    peak = float(re.search(r"max_volume:\s*(-?[0-9.]+) dB", run.stderr).group(1))  # type: ignore[union-attr]
    return mean, peak


async def test_local_engine_speaks_with_monotonic_timings_covering_the_audio(tmp_path: Path) -> None:
    provider = LocalEspeakProvider()

    produced = await provider.synthesize(speech(), deadline=time.monotonic() + 30)

    path = tmp_path / "speech.wav"
    path.write_bytes(produced.audio)
    mean, peak = await loudness(path)
    assert mean > -35 and peak > -10, "the audio is silent"
    words = len(TEXT.split())
    assert produced.duration_seconds is not None
    assert 0.2 * words < produced.duration_seconds < 0.8 * words  # ~175 words a minute
    characters = produced.characters
    assert "".join(c.character for c in characters) == TEXT
    starts = [c.start for c in characters]
    assert starts == sorted(starts)
    assert all(c.end >= c.start for c in characters)
    assert characters[0].start == pytest.approx(0.0, abs=0.05)
    assert characters[-1].end == pytest.approx(produced.duration_seconds, abs=0.01)
    # "lazy" is heard in the first sentence, well before "nap"
    lazy, nap = TEXT.index("lazy"), TEXT.index("nap")
    assert characters[lazy].start < produced.duration_seconds / 2 < characters[nap].start


async def test_faster_speech_is_shorter() -> None:
    provider = LocalEspeakProvider()
    normal = await provider.synthesize(speech(), deadline=time.monotonic() + 30)
    fast = await provider.synthesize(speech(speed=1.2), deadline=time.monotonic() + 30)
    assert fast.duration_seconds is not None and normal.duration_seconds is not None
    assert fast.duration_seconds < normal.duration_seconds * 0.92


async def test_synthesis_never_blocks_the_event_loop() -> None:
    """A 5,000-character text keeps the engine busy for a few hundred ms; the loop keeps ticking.

    Run on the loop, the engine would leave no room for a single tick until it finished;
    counting ticks (not timing them) keeps this true on a loaded machine too.
    """
    provider = LocalEspeakProvider()
    long_text = ((TEXT + " ") * 60)[:5000]
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.002)
            ticks += 1

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    started = time.perf_counter()
    await provider.synthesize(speech(long_text), deadline=time.monotonic() + 30)
    took = time.perf_counter() - started
    ticked = ticks
    task.cancel()
    assert took > 0.05, "the text was too short to tell"
    assert ticked >= 10, f"the loop ticked {ticked} times in {took:.3f} s of synthesis"


async def test_voices_are_listed_and_unknown_ones_are_not_found() -> None:
    provider = LocalEspeakProvider()

    voices = await provider.list_voices(deadline=time.monotonic() + 10)

    ids = {v.voice_id for v in voices}
    assert {"en-us", "de", "fr-fr"} <= ids
    german = await provider.synthesize(speech("Guten Tag", voice="de"), deadline=time.monotonic() + 10)
    assert german.duration_seconds and german.duration_seconds > 0.3
    for alias in ("EN-US", "English (America)", "gmw/en-US"):
        produced = await provider.synthesize(speech("Hi", voice=alias), deadline=time.monotonic() + 10)
        assert produced.voice_id == "en-us"
    assert (await provider.synthesize(speech("Hi", voice="en"), deadline=time.monotonic() + 10)).voice_id == "en-gb"
    with pytest.raises(VoiceNotFound):
        await provider.synthesize(speech(voice="xx-nowhere"), deadline=time.monotonic() + 10)
