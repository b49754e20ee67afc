"""What one synthesis produced: the record the cache keeps and the reply is built from."""

from __future__ import annotations

import json
from dataclasses import dataclass

from services.tts.speech import ProviderName
from services.tts.timings import CharacterTiming, WordTiming, words_from_characters
from services.tts.trimming import TrimStats

# Media store folder of the cache: `tts/<digest>.<mp3|wav>` and `tts/<digest>.json`.
CACHE_FOLDER = "tts"


def audio_key(digest: str, extension: str) -> str:
    return f"{CACHE_FOLDER}/{digest}.{extension}"


def sidecar_key(digest: str) -> str:
    """The record (timings, stats) kept next to the audio, so the index can be rebuilt."""
    return f"{CACHE_FOLDER}/{digest}.json"


@dataclass(frozen=True)
class SpeechRecord:
    audio_key: str
    content_type: str
    duration_seconds: float
    sample_rate: int
    characters: tuple[CharacterTiming, ...]
    provider: ProviderName
    model_id: str
    voice_id: str
    size_bytes: int
    trim_stats: TrimStats | None = None

    @property
    def words(self) -> list[WordTiming]:
        return words_from_characters(self.characters)

    def to_json(self) -> str:
        return json.dumps(
            {
                "audio_key": self.audio_key,
                "content_type": self.content_type,
                "duration_seconds": self.duration_seconds,
                "sample_rate": self.sample_rate,
                # Compact rows: a 5,000-character text stays a small Redis value.
                "characters": [[c.character, round(c.start, 4), round(c.end, 4)] for c in self.characters],
                "provider": self.provider.value,
                "model_id": self.model_id,
                "voice_id": self.voice_id,
                "size_bytes": self.size_bytes,
                "trim_stats": None
                if self.trim_stats is None
                else [
                    self.trim_stats.original_duration,
                    self.trim_stats.new_duration,
                    self.trim_stats.removed_seconds,
                    self.trim_stats.regions_kept,
                ],
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, raw: str | bytes) -> SpeechRecord:
        data = json.loads(raw)
        stats = data.get("trim_stats")
        return cls(
            audio_key=data["audio_key"],
            content_type=data["content_type"],
            duration_seconds=float(data["duration_seconds"]),
            sample_rate=int(data["sample_rate"]),
            characters=tuple(CharacterTiming(c, float(s), float(e)) for c, s, e in data["characters"]),
            provider=ProviderName(data["provider"]),
            model_id=data["model_id"],
            voice_id=data["voice_id"],
            size_bytes=int(data["size_bytes"]),
            trim_stats=None
            if stats is None
            else TrimStats(float(stats[0]), float(stats[1]), float(stats[2]), int(stats[3])),
        )
