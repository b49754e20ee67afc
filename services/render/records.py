"""The library's records as the domain sees them (rows in, protos out elsewhere)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class ProjectStatus(enum.StrEnum):
    DRAFT = "draft"
    GENERATING = "generating"
    READY_FOR_TRIAGE = "ready_for_triage"
    FAILED = "failed"


class ClipStatus(enum.StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True)
class Project:
    id: str
    profile_id: str
    name: str
    description: str
    target_duration: float
    status: ProjectStatus
    clip_count: int
    active_job_id: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class SourceVideo:
    id: str
    profile_id: str
    name: str
    media_key: str
    duration_seconds: float
    width: int
    height: int
    rotation: int
    has_audio: bool
    size_bytes: int
    created_at: datetime


@dataclass(frozen=True)
class Segment:
    id: str
    profile_id: str
    source_video_id: str
    start_time: float
    end_time: float
    keywords: tuple[str, ...]
    created_at: datetime

    @property
    def duration(self) -> float:
        return self.end_time - self.start_time


@dataclass(frozen=True)
class ClipContent:
    clip_id: str
    tts_text: str
    srt_content: str
    # Frontend camelCase keys (fontSize, textColor, ...), only those that were set.
    subtitle_settings: Mapping[str, Any]
    tts_audio_key: str
    tts_timings: Any
    updated_at: datetime | None


@dataclass(frozen=True)
class Export:
    id: str
    clip_id: str
    preset: str
    output_key: str
    size_bytes: int
    created_at: datetime


@dataclass(frozen=True)
class Clip:
    id: str
    project_id: str
    profile_id: str
    variant_index: int
    raw_video_key: str
    thumbnail_key: str
    final_video_key: str
    srt_key: str
    audio_key: str
    final_status: ClipStatus
    error: str
    duration_seconds: float
    created_at: datetime
    updated_at: datetime
    content: ClipContent | None = None
    latest_export: Export | None = None


@dataclass(frozen=True)
class NewClip:
    """A clip a generating pipeline made: its variant and the media it wrote."""

    variant_index: int
    raw_video_key: str
    duration_seconds: float
    thumbnail_key: str = ""
    srt_key: str = ""
    audio_key: str = ""
    tts_text: str = ""
    srt_content: str = ""
    subtitle_settings: Mapping[str, Any] = field(default_factory=dict)
