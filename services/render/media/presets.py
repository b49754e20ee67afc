"""Render presets: what a finished clip must look like for each platform.

All platforms take the same vertical format today (DESIGN.md §2); the presets
differ in CRF only, and keeping them as data makes a future divergence one line.
"""

from __future__ import annotations

from dataclasses import dataclass

from editai_common.errors import FieldViolation, invalid_fields


@dataclass(frozen=True)
class LoudnessTarget:
    integrated_lufs: float = -14.0
    true_peak_dbtp: float = -1.5
    loudness_range_lu: float = 11.0


@dataclass(frozen=True)
class RenderPreset:
    name: str
    crf: int
    width: int = 1080
    height: int = 1920
    fps: int = 30
    gop: int = 60
    # x264 speed: the service runs on small machines (2 cores); veryfast keeps a
    # render near real time while CRF holds quality.
    x264_preset: str = "veryfast"
    audio_bitrate: str = "192k"
    sample_rate: int = 48000
    loudness: LoudnessTarget = LoudnessTarget()

    def video_codec_args(self) -> list[str]:
        return [
            "-c:v", "libx264",
            "-preset", self.x264_preset,
            "-crf", str(self.crf),
            "-pix_fmt", "yuv420p",
            "-profile:v", "high",
            "-g", str(self.gop),
            "-keyint_min", str(self.gop),
            "-sc_threshold", "0",
            "-r", str(self.fps),
        ]  # fmt: skip

    def audio_codec_args(self) -> list[str]:
        return ["-c:a", "aac", "-b:a", self.audio_bitrate, "-ar", str(self.sample_rate), "-ac", "2"]

    def container_args(self) -> list[str]:
        # moov before mdat: a phone starts playing before the download ends.
        return ["-movflags", "+faststart", "-f", "mp4"]

    def output_args(self) -> list[str]:
        return [*self.video_codec_args(), *self.audio_codec_args(), *self.container_args()]


PRESETS: dict[str, RenderPreset] = {
    preset.name: preset
    for preset in (
        RenderPreset("tiktok", crf=19),
        RenderPreset("instagram_reels", crf=19),
        RenderPreset("youtube_shorts", crf=18),
        RenderPreset("facebook_reels", crf=20),
        RenderPreset("instagram_story", crf=20),
        RenderPreset("generic", crf=19),
    )
}

DEFAULT_PRESET = "generic"

# Intermediates (raw clips, concatenated segments) use the same frame format so the
# final render can take them without a rescale; no loudness processing yet.
INTERMEDIATE = PRESETS[DEFAULT_PRESET]


def preset_named(name: str) -> RenderPreset:
    """The preset called `name` (empty: generic); unknown → INVALID_ARGUMENT / UNKNOWN_PRESET."""
    key = (name or DEFAULT_PRESET).strip().lower()
    preset = PRESETS.get(key)
    if preset is None:
        known = ", ".join(PRESETS)
        raise invalid_fields(
            [FieldViolation("preset_name", f"unknown preset {name!r}; use one of {known}")],
            reason="UNKNOWN_PRESET",
        )
    return preset
