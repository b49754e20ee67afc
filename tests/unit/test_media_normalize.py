"""Frame normalisation: what shape a source has on screen decides crop or blurred pad."""

from __future__ import annotations

from services.render.media.normalize import FrameFit, choose_fit, display_size, fit_graph


def test_a_quarter_turn_swaps_the_displayed_size() -> None:
    assert display_size(1920, 1080, 90) == (1080, 1920)
    assert display_size(1920, 1080, 270) == (1080, 1920)
    assert display_size(1920, 1080, 180) == (1920, 1080)


def test_portrait_sources_are_cropped_and_landscape_ones_padded_over_a_blur() -> None:
    assert choose_fit(1080, 1920, 0, 1080, 1920) is FrameFit.CROP
    assert choose_fit(1920, 1080, 90, 1080, 1920) is FrameFit.CROP  # a sideways phone video
    assert choose_fit(1920, 1080, 0, 1080, 1920) is FrameFit.BLUR_PAD
    assert choose_fit(1440, 1920, 0, 1080, 1920) is FrameFit.CROP  # 3:4 keeps 75 %


def test_fit_graphs_end_in_the_output_frame_under_their_own_labels() -> None:
    crop = fit_graph("0:v", "v0", 1080, 1920, 30)
    pad = fit_graph("1:v", "v1", 1080, 1920, 30, FrameFit.BLUR_PAD)

    assert crop.startswith("[0:v]") and crop.endswith("[v0]") and "crop=1080:1920" in crop
    assert pad.startswith("[1:v]split=2[v1_bg][v1_fg]") and pad.endswith("[v1]")
    assert all(part in pad for part in ("boxblur", "overlay=(W-w)/2:(H-h)/2", "fps=30", "format=yuv420p"))
