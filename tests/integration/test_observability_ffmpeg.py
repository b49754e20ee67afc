"""Every ffmpeg run is timed into editai_ffmpeg_seconds{operation, outcome} by run_ffmpeg itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from editai_common.ffmpeg import FfmpegFailed, run_ffmpeg


def runs(operation: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("editai_ffmpeg_seconds_count", {"operation": operation, "outcome": outcome}) or 0


async def test_ffmpeg_runs_are_counted_by_operation_and_outcome(tmp_path: Path) -> None:
    tone = ["-f", "lavfi", "-i", "sine=frequency=440:duration=0.2", str(tmp_path / "tone.wav")]
    await run_ffmpeg(tone, time_limit=30, operation="test_tone")
    with pytest.raises(FfmpegFailed):
        await run_ffmpeg(["-i", str(tmp_path / "missing.mp4"), str(tmp_path / "out.wav")], time_limit=30,
                         operation="test_missing")  # fmt: skip
    assert runs("test_tone", "ok") == 1
    assert runs("test_missing", "failed") == 1
    seconds = REGISTRY.get_sample_value("editai_ffmpeg_seconds_sum", {"operation": "test_tone", "outcome": "ok"})
    assert seconds and seconds > 0
