"""The final render against real ffmpeg: delivery format, loudness, faststart,
subtitles burned where and when they are cued, and picture filters applied."""

from __future__ import annotations

from pathlib import Path

import pytest

from editai_common.media_store import LocalMediaStore
from services.render.media.filters import VideoFilters
from services.render.media.final_render import FinalRender, fit_video, render_final
from services.render.media.loudness import measure_loudness
from services.render.media.phrases import Phrase
from services.render.media.presets import preset_named
from services.render.media.segments import SourceRange
from services.render.media.subtitle_style import SubtitleStyle
from services.render.media.subtitles import write_ass
from tests.support.media import (
    gray_crop,
    make_audio,
    make_video,
    mean_abs_difference,
    probe_output,
    top_level_boxes,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def store(tmp_path: Path) -> LocalMediaStore:
    return LocalMediaStore(tmp_path / "store")


async def test_final_render_meets_the_delivery_spec(tmp_path: Path, store: LocalMediaStore) -> None:
    source = await make_video(tmp_path / "source.mp4", seconds=2.0)
    # A quiet voiceover (about −30 LUFS) longer than the video: the video must be extended.
    voiceover = await make_audio(
        tmp_path / "voice.wav", seconds=3.4, expression="0.04*sin(2*PI*220*t)*(1+sin(2*PI*2*t))"
    )
    subtitles = write_ass(tmp_path / "subs.ass", [Phrase("Hello there", 0.2, 1.5)], SubtitleStyle())
    render = FinalRender(
        pieces=fit_video([SourceRange(source, 0, 2.0)], [], 3.4),
        duration=3.4,
        preset=preset_named("tiktok"),
        voiceover=voiceover,
        subtitles=subtitles,
        filters=VideoFilters.from_request(
            enable_denoise=True, denoise_strength=3, enable_sharpen=True, sharpen_amount=1
        ),
    )
    progress: list[float] = []

    async def on_progress(fraction: float) -> None:
        progress.append(fraction)

    result = await render_final(render, store, "clips/c1/final.mp4", time_limit=120, on_progress=on_progress)

    output = store.local_path(result.output_key)
    probed = probe_output(output)
    assert (probed.video_codec, probed.width, probed.height, probed.pix_fmt) == ("h264", 1080, 1920, "yuv420p")
    assert probed.duration == pytest.approx(3.4, abs=0.1)
    assert probed.has_audio and probed.audio_sample_rate == 48000
    loudness = await measure_loudness(output)
    assert loudness.integrated_lufs == pytest.approx(-14.0, abs=1.0)
    assert loudness.true_peak_dbtp <= -1.0
    boxes = top_level_boxes(output)
    assert boxes.index("moov") < boxes.index("mdat"), boxes
    assert progress and progress == sorted(progress) and progress[-1] > 0.9
    assert [name for name, _ in result.passes] == ["loudness measurement", "render"]
    assert list(store.partial_dir().iterdir()) == []


async def _render_flat(
    tmp_path: Path, store: LocalMediaStore, key: str, *, phrases: list[Phrase] | None, position_y: float = 85
) -> Path:
    source = tmp_path / "flat.mp4"
    if not source.exists():
        await make_video(source, seconds=3.0, source="color=c=0x3050a0")
        await make_audio(tmp_path / "voice.wav", seconds=3.0)
    subtitles = None
    if phrases is not None:
        subtitles = write_ass(
            tmp_path / f"{Path(key).stem}.ass", phrases, SubtitleStyle(font_size=96, position_y=position_y)
        )
    render = FinalRender(
        pieces=fit_video([SourceRange(source, 0, 3.0)], [], 3.0),
        duration=3.0,
        preset=preset_named("generic"),
        voiceover=tmp_path / "voice.wav",
        subtitles=subtitles,
    )
    await render_final(render, store, key, time_limit=120)
    return store.local_path(key)


async def test_subtitles_are_burned_during_cues_at_the_chosen_position(tmp_path: Path, store: LocalMediaStore) -> None:
    cue = [Phrase("SUBTITLE", 0.5, 1.5)]
    plain = await _render_flat(tmp_path, store, "plain.mp4", phrases=None)
    bottom = await _render_flat(tmp_path, store, "bottom.mp4", phrases=cue, position_y=85)
    top = await _render_flat(tmp_path, store, "top.mp4", phrases=cue, position_y=20)

    async def difference(video: Path, at: float, center_y: int) -> float:
        async def crop(path: Path) -> bytes:
            return await gray_crop(path, at=at, x=140, y=center_y - 60, width=800, height=120, workdir=tmp_path)

        return mean_abs_difference(await crop(plain), await crop(video))

    bottom_row, top_row = round(0.85 * 1920), round(0.20 * 1920)
    assert await difference(bottom, 1.0, bottom_row) > 5  # during the cue, where it is placed
    assert await difference(bottom, 2.5, bottom_row) < 1  # after the cue: nothing burned
    assert await difference(bottom, 1.0, top_row) < 1  # not elsewhere
    assert await difference(top, 1.0, top_row) > 5  # positionY moves it
    assert await difference(top, 1.0, bottom_row) < 1


async def test_a_subtitle_path_with_filtergraph_characters_still_works(tmp_path: Path, store: LocalMediaStore) -> None:
    odd = tmp_path / "it's: a,[dir];"
    odd.mkdir()
    source = await make_video(tmp_path / "s.mp4", seconds=1.0)
    voiceover = await make_audio(tmp_path / "v.wav", seconds=1.0)
    subtitles = write_ass(odd / "subs.ass", [Phrase("Hi", 0.0, 1.0)], SubtitleStyle())
    render = FinalRender(
        pieces=fit_video([SourceRange(source, 0, 1.0)], [], 1.0),
        duration=1.0,
        preset=preset_named("generic"),
        voiceover=voiceover,
        subtitles=subtitles,
        fonts_dir=odd,
    )

    await render_final(render, store, "odd.mp4", time_limit=60)

    assert probe_output(store.local_path("odd.mp4")).width == 1080


async def test_peaky_speech_still_lands_on_the_loudness_target(tmp_path: Path, store: LocalMediaStore) -> None:
    """Short loud bursts (like speech): one linear gain would clip, so the limiter path runs."""
    source = await make_video(tmp_path / "source.mp4", seconds=3.0)
    bursts = await make_audio(
        tmp_path / "bursts.wav",
        seconds=3.0,
        expression="0.06*sin(2*PI*200*t)+0.85*sin(2*PI*1500*t)*lt(mod(t,0.25),0.004)",
    )
    render = FinalRender(
        pieces=fit_video([SourceRange(source, 0, 3.0)], [], 3.0),
        duration=3.0,
        preset=preset_named("generic"),
        voiceover=bursts,
    )

    result = await render_final(render, store, "peaky.mp4", time_limit=60)

    assert "limiter" in result.passes[0][0]
    loudness = await measure_loudness(store.local_path("peaky.mp4"))
    assert loudness.integrated_lufs == pytest.approx(-14.0, abs=1.0)
    assert loudness.true_peak_dbtp <= -1.0
