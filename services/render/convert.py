"""Domain records → editai.render.v1 messages (the only place that knows both shapes)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from editai.render.v1 import render_pb2
from services.render.jobs import Job, JobStatus, JobType
from services.render.records import Clip, ClipContent, ClipStatus, Export, Project, ProjectStatus, Segment, SourceVideo

PROJECT_STATUS = {
    ProjectStatus.DRAFT: render_pb2.PROJECT_STATUS_DRAFT,
    ProjectStatus.GENERATING: render_pb2.PROJECT_STATUS_GENERATING,
    ProjectStatus.READY_FOR_TRIAGE: render_pb2.PROJECT_STATUS_READY_FOR_TRIAGE,
    ProjectStatus.FAILED: render_pb2.PROJECT_STATUS_FAILED,
}
CLIP_STATUS = {
    ClipStatus.PENDING: render_pb2.CLIP_STATUS_PENDING,
    ClipStatus.PROCESSING: render_pb2.CLIP_STATUS_PROCESSING,
    ClipStatus.COMPLETED: render_pb2.CLIP_STATUS_COMPLETED,
    ClipStatus.FAILED: render_pb2.CLIP_STATUS_FAILED,
}
JOB_STATUS = {
    JobStatus.QUEUED: render_pb2.JOB_STATUS_QUEUED,
    JobStatus.RUNNING: render_pb2.JOB_STATUS_RUNNING,
    JobStatus.SUCCEEDED: render_pb2.JOB_STATUS_SUCCEEDED,
    JobStatus.FAILED: render_pb2.JOB_STATUS_FAILED,
    JobStatus.CANCELLED: render_pb2.JOB_STATUS_CANCELLED,
}
JOB_STATUS_FROM_PROTO = {v: k for k, v in JOB_STATUS.items()}
JOB_TYPE = {
    JobType.GENERATE_RAW_CLIPS: render_pb2.JOB_TYPE_GENERATE_RAW_CLIPS,
    JobType.GENERATE_FROM_SEGMENTS: render_pb2.JOB_TYPE_GENERATE_FROM_SEGMENTS,
    JobType.RENDER_FINAL_CLIP: render_pb2.JOB_TYPE_RENDER_FINAL_CLIP,
    JobType.PROCESS_VIDEO: render_pb2.JOB_TYPE_PROCESS_VIDEO,
    JobType.SYNTHESIZE_SPEECH: render_pb2.JOB_TYPE_SYNTHESIZE_SPEECH,
}
SELECTION_MODE = {
    render_pb2.SELECTION_MODE_UNSPECIFIED: "random",
    render_pb2.SELECTION_MODE_RANDOM: "random",
    render_pb2.SELECTION_MODE_SEQUENTIAL: "sequential",
    render_pb2.SELECTION_MODE_WEIGHTED: "weighted",
}

# SubtitleStyle field ↔ frontend camelCase key.
STYLE_FIELDS = {
    "fontSize": "font_size",
    "fontFamily": "font_family",
    "textColor": "text_color",
    "outlineColor": "outline_color",
    "outlineWidth": "outline_width",
    "positionY": "position_y",
    "shadowDepth": "shadow_depth",
    "shadowColor": "shadow_color",
    "borderStyle": "border_style",
    "enableGlow": "enable_glow",
    "glowBlur": "glow_blur",
    "adaptiveSizing": "adaptive_sizing",
}


def timestamp(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def project(p: Project) -> render_pb2.Project:
    return render_pb2.Project(
        id=p.id, profile_id=p.profile_id, name=p.name, description=p.description, target_duration=p.target_duration,
        status=PROJECT_STATUS[p.status], clip_count=p.clip_count, active_job_id=p.active_job_id or "",
        created_at=timestamp(p.created_at), updated_at=timestamp(p.updated_at),
    )  # fmt: skip


def source_video(s: SourceVideo) -> render_pb2.SourceVideo:
    return render_pb2.SourceVideo(
        id=s.id, profile_id=s.profile_id, name=s.name, media_key=s.media_key, duration_seconds=s.duration_seconds,
        width=s.width, height=s.height, rotation=s.rotation, has_audio=s.has_audio, size_bytes=s.size_bytes,
        created_at=timestamp(s.created_at),
    )  # fmt: skip


def segment(s: Segment) -> render_pb2.Segment:
    return render_pb2.Segment(
        id=s.id, source_video_id=s.source_video_id, start_time=s.start_time, end_time=s.end_time,
        keywords=list(s.keywords), created_at=timestamp(s.created_at),
    )  # fmt: skip


def subtitle_style(settings: Mapping[str, Any]) -> render_pb2.SubtitleStyle:
    style = render_pb2.SubtitleStyle()
    for key, name in STYLE_FIELDS.items():
        if key in settings and settings[key] is not None:
            setattr(style, name, settings[key])
    return style


def content(c: ClipContent) -> render_pb2.ClipContent:
    return render_pb2.ClipContent(
        clip_id=c.clip_id, tts_text=c.tts_text, srt_content=c.srt_content,
        subtitle_settings=subtitle_style(c.subtitle_settings), tts_audio_key=c.tts_audio_key,
        tts_timings_json=json.dumps(c.tts_timings) if c.tts_timings is not None else "",
        updated_at=timestamp(c.updated_at),
    )  # fmt: skip


def export(e: Export) -> render_pb2.Export:
    return render_pb2.Export(id=e.id, clip_id=e.clip_id, preset=e.preset, output_key=e.output_key,
                             size_bytes=e.size_bytes, created_at=timestamp(e.created_at))  # fmt: skip


def clip(c: Clip) -> render_pb2.Clip:
    message = render_pb2.Clip(
        id=c.id, project_id=c.project_id, variant_index=c.variant_index, raw_video_key=c.raw_video_key,
        thumbnail_key=c.thumbnail_key, final_video_key=c.final_video_key, final_status=CLIP_STATUS[c.final_status],
        error=c.error, duration_seconds=c.duration_seconds, srt_key=c.srt_key, audio_key=c.audio_key,
        created_at=timestamp(c.created_at), updated_at=timestamp(c.updated_at),
    )  # fmt: skip
    if c.content is not None:
        message.content.CopyFrom(content(c.content))
    if c.latest_export is not None:
        message.latest_export.CopyFrom(export(c.latest_export))
    return message


def job(j: Job) -> render_pb2.Job:
    return render_pb2.Job(
        id=j.id, profile_id=j.profile_id, type=JOB_TYPE[j.type], status=JOB_STATUS[j.status],
        project_id=j.project_id or "", clip_id=j.clip_id or "", request_id=j.request_id or "", attempt=j.attempt,
        fencing_token=j.fencing_token, percentage=j.percentage, current_step=j.current_step,
        error_reason=j.error_reason, error=j.error, output_keys=j.output_keys,
        created_at=timestamp(j.created_at), started_at=timestamp(j.started_at),
        finished_at=timestamp(j.finished_at), duration_seconds=float(j.outputs.get("duration_seconds", 0.0) or 0.0),
    )  # fmt: skip
