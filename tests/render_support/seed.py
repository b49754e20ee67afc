"""Library rows a test needs without running a job first (e.g. a clip to render)."""

from __future__ import annotations

import uuid

import psycopg


def insert_clip(database_url: str, profile: str, project_id: str, raw_video_key: str, duration: float) -> str:
    clip_id = uuid.uuid4()
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO render.clips (id, project_id, profile_id, variant_index, raw_video_key, duration_seconds)"
            " VALUES (%s, %s, %s, 1, %s, %s)",
            (clip_id, uuid.UUID(project_id), profile, raw_video_key, duration),
        )
        conn.execute("INSERT INTO render.clip_content (clip_id) VALUES (%s)", (clip_id,))
    return str(clip_id)
