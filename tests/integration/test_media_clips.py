"""Raw clips and segment clips against real ffmpeg: distinct variants from scored
windows, uniform output from mixed sources, speech ducking, thumbnails, and no
leftovers when ffmpeg fails or the task is cancelled."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import psutil
import pytest

from editai_common.errors import DeadlineExceeded, InvalidArgument
from editai_common.ffmpeg import FfmpegFailed, probe_media, run_ffmpeg
from editai_common.media_store import LocalMediaStore
from services.render.media.final_render import FinalRender, fit_video, render_final
from services.render.media.normalize import FrameFit, choose_fit
from services.render.media.presets import INTERMEDIATE, preset_named
from services.render.media.probing import display_rotation
from services.render.media.scoring import analyse_frames, pick_windows
from services.render.media.segments import Piece, SourceRange, render_pieces
from services.render.media.speech_regions import Region, detect_speech_regions
from services.render.media.thumbnails import render_thumbnail
from tests.support.media import gray_crop, make_audio, make_video, mean_abs_difference, probe_output

pytestmark = pytest.mark.slow


@pytest.fixture
def store(tmp_path: Path) -> LocalMediaStore:
    return LocalMediaStore(tmp_path / "store")


async def test_variants_come_from_different_windows_and_look_different(tmp_path: Path, store: LocalMediaStore) -> None:
    source = await make_video(tmp_path / "source.mp4", seconds=6.0)
    frames = await analyse_frames(source, tmp_path, time_limit=60, duration=6.0)
    assert len(frames) >= 25 and any(f.difference > 0 for f in frames)

    windows = pick_windows(frames, source_duration=6.0, target_duration=2.0, variant_count=3)

    assert len({w.start for w in windows}) == 3
    assert all(w.duration == pytest.approx(2.0) for w in windows)
    thumbnails = []
    for index, window in enumerate(windows):
        async with store.temp_path(f"clips/v{index}.mp4") as partial:
            await render_pieces(
                [Piece(SourceRange(source, 0, 6.0), window.start, window.end, 0.0)],
                partial,
                INTERMEDIATE,
                time_limit=60,
            )
        thumb = tmp_path / f"v{index}.jpg"
        await render_thumbnail(store.local_path(f"clips/v{index}.mp4"), thumb, at_seconds=0.5)
        thumbnails.append(thumb.read_bytes())
    assert len(set(thumbnails)) == 3


async def test_pieces_from_mixed_sources_join_into_one_uniform_clip(tmp_path: Path, store: LocalMediaStore) -> None:
    wide = await make_video(tmp_path / "wide.mp4", seconds=2.0, size="320x180")
    tall = await make_video(tmp_path / "tall.mp4", seconds=2.0, size="180x320", audio=None)
    pieces = [
        Piece(SourceRange(wide, 0, 2.0), 0.5, 2.0, 0.0),
        Piece(SourceRange(tall, 0, 2.0, has_audio=False), 0.0, 1.2, 1.5),
    ]

    async with store.temp_path("clips/joined.mp4") as partial:
        await render_pieces(pieces, partial, INTERMEDIATE, time_limit=60)

    probed = probe_output(store.local_path("clips/joined.mp4"))
    assert (probed.video_codec, probed.width, probed.height, probed.pix_fmt) == ("h264", 1080, 1920, "yuv420p")
    assert probed.duration == pytest.approx(2.7, abs=0.1)
    assert probed.has_audio


async def _peak_db(path: Path, start: float, end: float) -> float:
    run = await run_ffmpeg(
        ["-ss", str(start), "-t", str(end - start), "-i", path, "-vn", "-af", "volumedetect", "-f", "null", "-"],
        time_limit=30,
        loglevel="info",
    )
    line = next(line for line in run.stderr.splitlines() if "max_volume" in line)
    return float(line.split("max_volume:")[1].split("dB")[0])


async def test_speech_regions_are_found_and_muted_with_the_rest_kept(tmp_path: Path, store: LocalMediaStore) -> None:
    # Sound 0–1 s and 2–3 s, silence between and after.
    talk = "0.5*sin(2*PI*300*t)*(lt(t,1)+between(t,2,3))"
    source = await make_video(tmp_path / "talk.mp4", seconds=4.0, audio=f"aevalsrc='{talk}':sample_rate=48000")

    regions = await detect_speech_regions(source, duration=4.0, time_limit=30)

    assert len(regions) == 2
    assert regions[0].start == pytest.approx(0.0, abs=0.1) and regions[0].end == pytest.approx(1.0, abs=0.1)
    assert regions[1].start == pytest.approx(2.0, abs=0.1) and regions[1].end == pytest.approx(3.0, abs=0.1)

    # Keep only the first region as "speech": it must go silent, the second stays.
    source_range = SourceRange(source, 0, 4.0, speech=(Region(0.0, 1.0),))
    async with store.temp_path("clips/muted.mp4") as partial:
        await render_pieces(
            [Piece(source_range, 0.0, 4.0, 0.0)], partial, INTERMEDIATE, time_limit=60, mute_speech=True
        )
    output = store.local_path("clips/muted.mp4")
    assert await _peak_db(output, 0.2, 0.8) < -60
    assert await _peak_db(output, 2.2, 2.8) > -12


async def test_thumbnail_is_320_pixels_wide(tmp_path: Path) -> None:
    video = await make_video(tmp_path / "v.mp4", seconds=1.0, size="1080x1920", audio=None)

    await render_thumbnail(video, tmp_path / "thumb.jpg", at_seconds=0.2)

    info = await probe_media(tmp_path / "thumb.jpg")
    assert (info.width, info.height) == (320, 568)


def _ffmpeg_children() -> list[psutil.Process]:
    return [p for p in psutil.Process().children(recursive=True) if "ffmpeg" in p.name()]


async def test_a_failing_ffmpeg_publishes_nothing_and_leaves_no_temp_files(
    tmp_path: Path, store: LocalMediaStore
) -> None:
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    voiceover = await make_audio(tmp_path / "voice.wav", seconds=1.0)
    render = FinalRender(
        pieces=fit_video([SourceRange(corrupt, 0, 2.0)], [], 1.0),
        duration=1.0,
        preset=preset_named("generic"),
        voiceover=voiceover,
    )

    with pytest.raises(FfmpegFailed):
        await render_final(render, store, "clips/broken/final.mp4", time_limit=30)

    assert not await store.exists("clips/broken/final.mp4")
    assert list(store.partial_dir().iterdir()) == []


async def test_a_render_over_its_time_limit_publishes_nothing(tmp_path: Path, store: LocalMediaStore) -> None:
    source = await make_video(tmp_path / "s.mp4", seconds=4.0)
    voiceover = await make_audio(tmp_path / "voice.wav", seconds=30.0)
    render = FinalRender(
        pieces=fit_video([SourceRange(source, 0, 4.0)], [], 30.0),
        duration=30.0,
        preset=preset_named("generic"),
        voiceover=voiceover,
    )

    with pytest.raises(DeadlineExceeded):
        await render_final(render, store, "clips/slow/final.mp4", time_limit=1.5)

    assert not await store.exists("clips/slow/final.mp4")
    assert list(store.partial_dir().iterdir()) == []
    assert _ffmpeg_children() == []


async def test_a_silent_voiceover_is_refused_before_rendering(tmp_path: Path, store: LocalMediaStore) -> None:
    source = await make_video(tmp_path / "s.mp4", seconds=1.0)
    silent = await make_audio(tmp_path / "silent.wav", seconds=1.0, expression="0")
    render = FinalRender(
        pieces=fit_video([SourceRange(source, 0, 1.0)], [], 1.0), duration=1.0, preset=INTERMEDIATE, voiceover=silent
    )

    with pytest.raises(InvalidArgument) as raised:
        await render_final(render, store, "clips/silent.mp4", time_limit=30)

    assert raised.value.reason == "SILENT_AUDIO"
    assert list(store.partial_dir().iterdir()) == []


async def test_cancelling_mid_render_kills_ffmpeg_within_two_seconds(tmp_path: Path, store: LocalMediaStore) -> None:
    source = await make_video(tmp_path / "long.mp4", seconds=4.0, size="640x360")
    voiceover = await make_audio(tmp_path / "voice.wav", seconds=60.0)
    render = FinalRender(
        pieces=fit_video([SourceRange(source, 0, 4.0)], [], 60.0),
        duration=60.0,
        preset=preset_named("generic"),
        voiceover=voiceover,
    )
    started = asyncio.Event()

    async def on_progress(fraction: float) -> None:
        if fraction > 0.05:
            started.set()

    task = asyncio.create_task(
        render_final(render, store, "clips/cancelled.mp4", time_limit=120, on_progress=on_progress)
    )
    await asyncio.wait_for(started.wait(), 30)
    assert _ffmpeg_children(), "the render should be running"

    cancelled_at = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - cancelled_at < 2.0
    assert _ffmpeg_children() == []
    assert list(store.partial_dir().iterdir()) == []
    assert not await store.exists("clips/cancelled.mp4")


async def test_a_sideways_phone_video_arrives_upright(tmp_path: Path, store: LocalMediaStore) -> None:
    # Red above blue, stored with a 90° display matrix: on screen, red and blue sit side by side.
    plain = tmp_path / "plain.mp4"
    await run_ffmpeg(
        ["-f", "lavfi", "-i", "color=c=red:s=320x240:d=1,drawbox=x=0:y=120:w=320:h=120:c=blue:t=fill",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", plain],
        time_limit=30,
    )  # fmt: skip
    rotated = tmp_path / "rotated.mp4"
    await run_ffmpeg(["-display_rotation", "90", "-i", plain, "-c", "copy", rotated], time_limit=30)
    info = await probe_media(rotated)
    rotation = await display_rotation(rotated, info)
    assert rotation in (90, 270)
    assert choose_fit(info.width, info.height, rotation, 1080, 1920) is FrameFit.CROP  # portrait on screen

    async with store.temp_path("clips/upright.mp4") as partial:
        await render_pieces([Piece(SourceRange(rotated, 0, 1.0, has_audio=False), 0, 1.0, 0)], partial, INTERMEDIATE,
                            time_limit=60, fit=FrameFit.CROP)  # fmt: skip
    output = store.local_path("clips/upright.mp4")
    left = await gray_crop(output, at=0.5, x=100, y=900, width=100, height=100, workdir=tmp_path)
    right = await gray_crop(output, at=0.5, x=880, y=900, width=100, height=100, workdir=tmp_path)
    assert mean_abs_difference(left, right) > 20  # the two colours are now left and right


async def test_a_thumbnail_asked_past_the_end_takes_the_first_frame(tmp_path: Path) -> None:
    video = await make_video(tmp_path / "short.mp4", seconds=0.4, audio=None)

    await render_thumbnail(video, tmp_path / "thumb.jpg", at_seconds=5.0)

    assert (await probe_media(tmp_path / "thumb.jpg")).width == 320
