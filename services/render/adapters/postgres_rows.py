"""Rows of the `render` schema into domain records (shared by the Postgres adapters)."""

from __future__ import annotations

from typing import Any

from services.render.jobs import Job, JobStatus, JobType
from services.render.records import (
    Clip,
    ClipContent,
    ClipStatus,
    Export,
    Project,
    ProjectStatus,
    Segment,
    SourceVideo,
)

Row = dict[str, Any]


def project_from(row: Row) -> Project:
    return Project(
        id=str(row["id"]),
        profile_id=row["profile_id"],
        name=row["name"],
        description=row["description"],
        target_duration=row["target_duration"],
        status=ProjectStatus(row["status"]),
        clip_count=int(row.get("clip_count") or 0),
        active_job_id=str(row["active_job_id"]) if row.get("active_job_id") else None,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def source_video_from(row: Row) -> SourceVideo:
    return SourceVideo(
        id=str(row["id"]),
        profile_id=row["profile_id"],
        name=row["name"],
        media_key=row["media_key"],
        duration_seconds=row["duration_seconds"],
        width=row["width"],
        height=row["height"],
        rotation=row["rotation"],
        has_audio=row["has_audio"],
        size_bytes=row["size_bytes"],
        created_at=row["created_at"],
    )


def segment_from(row: Row) -> Segment:
    return Segment(
        id=str(row["id"]),
        profile_id=row["profile_id"],
        source_video_id=str(row["source_video_id"]),
        start_time=row["start_time"],
        end_time=row["end_time"],
        keywords=tuple(row["keywords"] or ()),
        created_at=row["created_at"],
    )


def content_from(row: Row) -> ClipContent:
    return ClipContent(
        clip_id=str(row["clip_id"]),
        tts_text=row["tts_text"],
        srt_content=row["srt_content"],
        subtitle_settings=row["subtitle_settings"] or {},
        tts_audio_key=row["tts_audio_key"],
        tts_timings=row["tts_timings"],
        updated_at=row["updated_at"],
    )


def export_from(row: Row) -> Export:
    return Export(
        id=str(row["id"]),
        clip_id=str(row["clip_id"]),
        preset=row["preset"],
        output_key=row["output_key"],
        size_bytes=row["size_bytes"],
        created_at=row["created_at"],
    )


def clip_from(row: Row) -> Clip:
    content = None
    if row.get("content_clip_id"):
        content = ClipContent(
            clip_id=str(row["id"]),
            tts_text=row["tts_text"],
            srt_content=row["srt_content"],
            subtitle_settings=row["subtitle_settings"] or {},
            tts_audio_key=row["tts_audio_key"],
            tts_timings=row["tts_timings"],
            updated_at=row["content_updated_at"],
        )
    export = None
    if row.get("export_id"):
        export = Export(
            id=str(row["export_id"]),
            clip_id=str(row["id"]),
            preset=row["export_preset"],
            output_key=row["export_output_key"],
            size_bytes=row["export_size_bytes"],
            created_at=row["export_created_at"],
        )
    return Clip(
        id=str(row["id"]),
        project_id=str(row["project_id"]),
        profile_id=row["profile_id"],
        variant_index=row["variant_index"],
        raw_video_key=row["raw_video_key"],
        thumbnail_key=row["thumbnail_key"],
        final_video_key=row["final_video_key"],
        srt_key=row["srt_key"],
        audio_key=row["audio_key"],
        final_status=ClipStatus(row["final_status"]),
        error=row["error"],
        duration_seconds=row["duration_seconds"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        content=content,
        latest_export=export,
    )


def job_from(row: Row) -> Job:
    return Job(
        id=str(row["id"]),
        profile_id=row["profile_id"],
        type=JobType(row["type"]),
        status=JobStatus(row["status"]),
        project_id=str(row["project_id"]) if row["project_id"] else None,
        clip_id=str(row["clip_id"]) if row["clip_id"] else None,
        request_id=row["request_id"],
        params=row["params"] or {},
        attempt=row["attempt"],
        max_attempts=row["max_attempts"],
        fencing_token=row["fencing_token"],
        percentage=row["percentage"],
        current_step=row["current_step"],
        error_reason=row["error_reason"],
        error=row["error"],
        outputs=row["outputs"] or {},
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        lease_expires_at=row["lease_expires_at"],
        deadline_at=row["deadline_at"],
    )
