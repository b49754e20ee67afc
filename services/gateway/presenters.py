"""Proto messages → the frontend's JSON shapes (DESIGN.md §2), in one place.

Media keys stay inside the system: the JSON carries download URLs instead.
Timestamps are ISO 8601 (UTC) or null when unset; statuses are lower-case words.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import timestamp_pb2
from google.protobuf.json_format import MessageToDict

from editai.progress.v1 import progress_pb2
from editai.render.v1 import render_pb2
from editai.tts.v1 import tts_pb2

API = "/api/v1"

PROJECT_STATUS = {
    render_pb2.PROJECT_STATUS_UNSPECIFIED: "draft",
    render_pb2.PROJECT_STATUS_DRAFT: "draft",
    render_pb2.PROJECT_STATUS_GENERATING: "generating",
    render_pb2.PROJECT_STATUS_READY_FOR_TRIAGE: "ready_for_triage",
    render_pb2.PROJECT_STATUS_FAILED: "failed",
}
CLIP_STATUS = {
    render_pb2.CLIP_STATUS_UNSPECIFIED: "pending",
    render_pb2.CLIP_STATUS_PENDING: "pending",
    render_pb2.CLIP_STATUS_PROCESSING: "processing",
    render_pb2.CLIP_STATUS_COMPLETED: "completed",
    render_pb2.CLIP_STATUS_FAILED: "failed",
}
# One vocabulary for jobs and progress: the frontend's pending/processing/completed/failed (+ cancelled).
JOB_STATUS = {
    render_pb2.JOB_STATUS_UNSPECIFIED: "pending",
    render_pb2.JOB_STATUS_QUEUED: "pending",
    render_pb2.JOB_STATUS_RUNNING: "processing",
    render_pb2.JOB_STATUS_SUCCEEDED: "completed",
    render_pb2.JOB_STATUS_FAILED: "failed",
    render_pb2.JOB_STATUS_CANCELLED: "cancelled",
}
PROGRESS_STATUS = {
    progress_pb2.JOB_STATUS_UNSPECIFIED: "pending",
    progress_pb2.JOB_STATUS_QUEUED: "pending",
    progress_pb2.JOB_STATUS_RUNNING: "processing",
    progress_pb2.JOB_STATUS_SUCCEEDED: "completed",
    progress_pb2.JOB_STATUS_FAILED: "failed",
    progress_pb2.JOB_STATUS_CANCELLED: "cancelled",
}
TERMINAL_PROGRESS = {
    progress_pb2.JOB_STATUS_SUCCEEDED,
    progress_pb2.JOB_STATUS_FAILED,
    progress_pb2.JOB_STATUS_CANCELLED,
}
JOB_TYPE = {
    render_pb2.JOB_TYPE_UNSPECIFIED: "unknown",
    render_pb2.JOB_TYPE_GENERATE_RAW_CLIPS: "generate_raw_clips",
    render_pb2.JOB_TYPE_GENERATE_FROM_SEGMENTS: "generate_from_segments",
    render_pb2.JOB_TYPE_RENDER_FINAL_CLIP: "render_final_clip",
    render_pb2.JOB_TYPE_PROCESS_VIDEO: "process_video",
    render_pb2.JOB_TYPE_SYNTHESIZE_SPEECH: "synthesize_speech",
}
TTS_PROVIDER = {
    tts_pb2.PROVIDER_UNSPECIFIED: "default",
    tts_pb2.PROVIDER_ELEVENLABS: "elevenlabs",
    tts_pb2.PROVIDER_LOCAL: "local",
}


def timestamp(value: timestamp_pb2.Timestamp, present: bool = True) -> str | None:
    if not present or (value.seconds == 0 and value.nanos == 0):
        return None
    return value.ToDatetime().isoformat() + "Z"


def project(message: render_pb2.Project) -> dict[str, Any]:
    return {
        "id": message.id,
        "name": message.name,
        "description": message.description,
        "target_duration": message.target_duration,
        "status": PROJECT_STATUS.get(message.status, "draft"),
        "clip_count": message.clip_count,
        "active_job_id": message.active_job_id or None,
        "created_at": timestamp(message.created_at),
        "updated_at": timestamp(message.updated_at),
    }


def source_video(message: render_pb2.SourceVideo) -> dict[str, Any]:
    return {
        "id": message.id,
        "name": message.name,
        "duration": message.duration_seconds,
        "width": message.width,
        "height": message.height,
        "rotation": message.rotation,
        "has_audio": message.has_audio,
        "size_bytes": message.size_bytes,
        "created_at": timestamp(message.created_at),
    }


def segment(message: render_pb2.Segment) -> dict[str, Any]:
    return {
        "id": message.id,
        "source_video_id": message.source_video_id,
        "start_time": message.start_time,
        "end_time": message.end_time,
        "duration": max(0.0, message.end_time - message.start_time),
        "keywords": list(message.keywords),
        "created_at": timestamp(message.created_at),
    }


def subtitle_style(message: render_pb2.SubtitleStyle) -> dict[str, Any]:
    """camelCase keys of the fields that are set (the proto's JSON names)."""
    return MessageToDict(message, preserving_proto_field_name=False)


def clip_content(message: render_pb2.ClipContent) -> dict[str, Any]:
    return {
        "clip_id": message.clip_id,
        "tts_text": message.tts_text,
        "srt_content": message.srt_content,
        "subtitle_settings": subtitle_style(message.subtitle_settings),
        "has_tts_audio": bool(message.tts_audio_key),
        "updated_at": timestamp(message.updated_at),
    }


def clip(message: render_pb2.Clip) -> dict[str, Any]:
    base = f"{API}/library/clips/{message.id}"
    export = message.latest_export if message.HasField("latest_export") else None
    return {
        "id": message.id,
        "project_id": message.project_id,
        "variant_index": message.variant_index,
        "final_status": CLIP_STATUS.get(message.final_status, "pending"),
        "error": message.error or None,
        "duration": message.duration_seconds,
        "has_raw_video": bool(message.raw_video_key),
        "has_thumbnail": bool(message.thumbnail_key),
        "download_url": f"{base}/download" if (message.final_video_key or message.raw_video_key) else None,
        "srt_url": f"{base}/srt" if message.srt_key else None,
        "audio_url": f"{base}/audio" if (message.audio_key or message.content.tts_audio_key) else None,
        "content": clip_content(message.content),
        "latest_export": (
            {
                "id": export.id,
                "preset": export.preset,
                "size_bytes": export.size_bytes,
                "created_at": timestamp(export.created_at),
            }
            if export is not None
            else None
        ),
        "created_at": timestamp(message.created_at),
        "updated_at": timestamp(message.updated_at),
    }


def job(message: render_pb2.Job) -> dict[str, Any]:
    status = JOB_STATUS.get(message.status, "pending")
    return {
        "job_id": message.id,
        "status": status,
        "type": JOB_TYPE.get(message.type, "unknown"),
        "project_id": message.project_id or None,
        "clip_id": message.clip_id or None,
        "progress": message.percentage,
        "current_step": message.current_step,
        "error": message.error or None,
        "error_reason": message.error_reason or None,
        "attempt": message.attempt,
        "output_count": len(message.output_keys),
        "download_url": f"{API}/jobs/{message.id}/download" if message.output_keys and status == "completed" else None,
        "created_at": timestamp(message.created_at),
        "started_at": timestamp(message.started_at),
        "finished_at": timestamp(message.finished_at),
    }


def progress(message: progress_pb2.Progress) -> dict[str, Any]:
    return {
        "percentage": message.percentage,
        "current_step": message.current_step,
        "estimated_remaining": (
            message.estimated_remaining_seconds if message.HasField("estimated_remaining_seconds") else None
        ),
        "status": PROGRESS_STATUS.get(message.status, "pending"),
        "job_id": message.job_id,
        "updated_at": timestamp(message.updated_at),
        "error": message.error or None,
    }


def idle_progress() -> dict[str, Any]:
    """A project that never had a job: nothing to wait for."""
    return {
        "percentage": 0.0,
        "current_step": "",
        "estimated_remaining": None,
        "status": "idle",
        "job_id": None,
        "updated_at": None,
        "error": None,
    }


def voice(message: tts_pb2.Voice) -> dict[str, Any]:
    return {
        "voice_id": message.voice_id,
        "name": message.name,
        "provider": TTS_PROVIDER.get(message.provider, "default"),
        "language": message.language,
        "category": message.category,
        "preview_url": message.preview_url or None,
        "labels": dict(message.labels),
    }
