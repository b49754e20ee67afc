"""The library in Postgres (schema `render`): projects, source videos, segments, clips.

Every read and write names the owning profile, so another profile's ids behave as
missing. Writes made by a job attempt go through `fenced(...)`, which holds the job
row (FOR SHARE) for the transaction and refuses the write unless the attempt's
fencing token is still the running one with a live lease (guarantee 3).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from services.render.adapters.postgres_rows import (
    clip_from,
    content_from,
    export_from,
    project_from,
    segment_from,
    source_video_from,
)
from services.render.jobs import StaleFencingToken
from services.render.records import (
    Clip,
    ClipContent,
    ClipStatus,
    Export,
    NewClip,
    Project,
    Segment,
    SourceVideo,
)

# ---------------------------------------------------------------- SQL, in one place

ENSURE_PROFILE = "INSERT INTO render.profiles (id) VALUES (%s) ON CONFLICT DO NOTHING"

PROJECT_COLUMNS = """
    p.*,
    (SELECT count(*) FROM render.clips c WHERE c.project_id = p.id) AS clip_count,
    (SELECT j.id FROM render.jobs j WHERE j.project_id = p.id AND j.status IN ('queued', 'running')) AS active_job_id
"""
INSERT_PROJECT = f"""
    WITH p AS (
        INSERT INTO render.projects (id, profile_id, name, description, target_duration)
        VALUES (%(id)s, %(profile)s, %(name)s, %(description)s, %(target_duration)s) RETURNING *)
    SELECT {PROJECT_COLUMNS} FROM p
"""
SELECT_PROJECT = f"SELECT {PROJECT_COLUMNS} FROM render.projects p WHERE p.id = %(id)s AND p.profile_id = %(profile)s"
LIST_PROJECTS = f"""
    SELECT {PROJECT_COLUMNS} FROM render.projects p WHERE p.profile_id = %(profile)s
    ORDER BY p.created_at DESC, p.id LIMIT %(limit)s OFFSET %(offset)s
"""
DELETE_PROJECT = "DELETE FROM render.projects WHERE id = %(id)s AND profile_id = %(profile)s RETURNING id"

INSERT_SOURCE_VIDEO = """
    INSERT INTO render.source_videos
        (id, profile_id, name, media_key, duration_seconds, width, height, rotation, has_audio, size_bytes)
    VALUES (%(id)s, %(profile)s, %(name)s, %(media_key)s, %(duration_seconds)s, %(width)s, %(height)s,
            %(rotation)s, %(has_audio)s, %(size_bytes)s)
    RETURNING *
"""
SELECT_SOURCE_VIDEO = "SELECT * FROM render.source_videos WHERE id = %(id)s AND profile_id = %(profile)s"
LIST_SOURCE_VIDEOS = "SELECT * FROM render.source_videos WHERE profile_id = %(profile)s ORDER BY created_at DESC"

INSERT_SEGMENT = """
    INSERT INTO render.segments (id, profile_id, source_video_id, start_time, end_time, keywords)
    VALUES (%(id)s, %(profile)s, %(source_video_id)s, %(start_time)s, %(end_time)s, %(keywords)s)
    RETURNING *
"""
LIST_SEGMENTS = "SELECT * FROM render.segments WHERE profile_id = %(profile)s ORDER BY created_at, id"
LIST_PROJECT_SEGMENTS = """
    SELECT s.* FROM render.project_segments ps JOIN render.segments s ON s.id = ps.segment_id
    WHERE ps.project_id = %(project)s AND s.profile_id = %(profile)s ORDER BY ps.position
"""
SELECT_SEGMENTS_BY_ID = "SELECT id FROM render.segments WHERE profile_id = %(profile)s AND id = ANY(%(ids)s)"
CLEAR_PROJECT_SEGMENTS = "DELETE FROM render.project_segments WHERE project_id = %(project)s"
INSERT_PROJECT_SEGMENT = (
    "INSERT INTO render.project_segments (project_id, position, segment_id) VALUES (%(project)s, %(pos)s, %(seg)s)"
)

CLIP_SELECT = """
    SELECT c.*, cc.clip_id AS content_clip_id, cc.tts_text, cc.srt_content, cc.subtitle_settings, cc.tts_audio_key,
           cc.tts_timings, cc.updated_at AS content_updated_at,
           e.id AS export_id, e.preset AS export_preset, e.output_key AS export_output_key,
           e.size_bytes AS export_size_bytes, e.created_at AS export_created_at
    FROM render.clips c
    LEFT JOIN render.clip_content cc ON cc.clip_id = c.id
    LEFT JOIN LATERAL (SELECT * FROM render.exports x WHERE x.clip_id = c.id ORDER BY x.created_at DESC LIMIT 1) e
           ON true
"""
SELECT_CLIP = CLIP_SELECT + " WHERE c.id = %(id)s AND c.profile_id = %(profile)s"
LIST_CLIPS = CLIP_SELECT + " WHERE c.project_id = %(project)s AND c.profile_id = %(profile)s ORDER BY c.variant_index"
INSERT_CLIP = """
    INSERT INTO render.clips
        (id, project_id, profile_id, variant_index, raw_video_key, thumbnail_key, srt_key, audio_key, duration_seconds)
    VALUES (%(id)s, %(project)s, %(profile)s, %(variant_index)s, %(raw_video_key)s, %(thumbnail_key)s, %(srt_key)s,
            %(audio_key)s, %(duration_seconds)s)
"""
INSERT_CLIP_CONTENT = """
    INSERT INTO render.clip_content (clip_id, tts_text, srt_content, subtitle_settings)
    VALUES (%(id)s, %(tts_text)s, %(srt_content)s, %(subtitle_settings)s)
"""
DELETE_PROJECT_CLIPS = "DELETE FROM render.clips WHERE project_id = %(project)s AND profile_id = %(profile)s"
UPSERT_CONTENT = """
    INSERT INTO render.clip_content AS cc (clip_id, tts_text, srt_content, subtitle_settings)
    VALUES (%(id)s, coalesce(%(tts_text)s, ''), coalesce(%(srt_content)s, ''), coalesce(%(settings)s, '{}'::jsonb))
    ON CONFLICT (clip_id) DO UPDATE SET
        tts_text = coalesce(%(tts_text)s, cc.tts_text),
        srt_content = coalesce(%(srt_content)s, cc.srt_content),
        subtitle_settings = CASE WHEN %(settings)s::jsonb IS NULL THEN cc.subtitle_settings
                                 ELSE cc.subtitle_settings || %(settings)s::jsonb END,
        updated_at = now()
    RETURNING *
"""
SELECT_CONTENT = "SELECT * FROM render.clip_content WHERE clip_id = %(id)s"
CLIP_OWNED = "SELECT project_id FROM render.clips WHERE id = %(id)s AND profile_id = %(profile)s"
SET_CLIP_STATUS = """
    UPDATE render.clips SET final_status = %(status)s, error = %(error)s, updated_at = now()
    WHERE id = %(id)s AND profile_id = %(profile)s RETURNING id
"""
SET_CLIP_MEDIA = """
    UPDATE render.clips SET
        raw_video_key = coalesce(%(raw_video_key)s, raw_video_key),
        final_video_key = coalesce(%(final_video_key)s, final_video_key),
        thumbnail_key = coalesce(%(thumbnail_key)s, thumbnail_key),
        srt_key = coalesce(%(srt_key)s, srt_key),
        audio_key = coalesce(%(audio_key)s, audio_key),
        duration_seconds = coalesce(%(duration_seconds)s, duration_seconds),
        updated_at = now()
    WHERE id = %(id)s AND profile_id = %(profile)s RETURNING id
"""
SET_CLIP_SPEECH = """
    INSERT INTO render.clip_content AS cc (clip_id, tts_audio_key, tts_timings) VALUES (%(id)s, %(key)s, %(timings)s)
    ON CONFLICT (clip_id) DO UPDATE SET tts_audio_key = %(key)s, tts_timings = %(timings)s, updated_at = now()
"""
SET_CLIP_SRT = """
    INSERT INTO render.clip_content AS cc (clip_id, srt_content) VALUES (%(id)s, %(srt)s)
    ON CONFLICT (clip_id) DO UPDATE SET srt_content = %(srt)s, updated_at = now()
"""
INSERT_EXPORT = """
    INSERT INTO render.exports (id, clip_id, preset, output_key, size_bytes)
    VALUES (%(id)s, %(clip)s, %(preset)s, %(key)s, %(size)s) RETURNING *
"""

# The attempt still owns its job: same token, still running, lease alive. FOR SHARE keeps
# a cancel or the reaper from taking the job away until this transaction commits.
HOLD_ATTEMPT = """
    SELECT 1 FROM render.jobs
    WHERE id = %(job)s AND fencing_token = %(token)s AND status = 'running' AND lease_expires_at > now()
    FOR SHARE
"""


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError):
        return None


class PostgresLibrary:
    """Library records of every profile; each method is scoped to one profile."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[AsyncConnection[Any]]:
        async with self._pool.connection() as conn, conn.transaction():
            yield conn

    async def _one(self, sql: str, params: Mapping[str, Any]) -> dict[str, Any] | None:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(sql, params)  # type: ignore[arg-type]
            return await cur.fetchone()

    async def _all(self, sql: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(sql, params)  # type: ignore[arg-type]
            return await cur.fetchall()

    # ------------------------------------------------------------ projects

    async def create_project(self, profile: str, *, name: str, description: str, target_duration: float) -> Project:
        async with self._tx() as conn:
            await conn.execute(ENSURE_PROFILE, (profile,))
            cur = conn.cursor(row_factory=dict_row)
            params = {"id": uuid.uuid4(), "profile": profile, "name": name, "description": description,
                      "target_duration": target_duration}  # fmt: skip
            await cur.execute(INSERT_PROJECT, params)
            row = await cur.fetchone()
        assert row is not None
        return project_from(row)

    async def project(self, profile: str, project_id: str) -> Project | None:
        if (pid := _uuid(project_id)) is None:
            return None
        row = await self._one(SELECT_PROJECT, {"id": pid, "profile": profile})
        return project_from(row) if row else None

    async def list_projects(self, profile: str, *, limit: int, offset: int) -> list[Project]:
        rows = await self._all(LIST_PROJECTS, {"profile": profile, "limit": limit, "offset": offset})
        return [project_from(r) for r in rows]

    async def delete_project(self, profile: str, project_id: str) -> bool:
        if (pid := _uuid(project_id)) is None:
            return False
        return await self._one(DELETE_PROJECT, {"id": pid, "profile": profile}) is not None

    # ------------------------------------------------------------ source videos and segments

    async def create_source_video(self, profile: str, **fields: Any) -> SourceVideo:
        async with self._tx() as conn:
            await conn.execute(ENSURE_PROFILE, (profile,))
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(INSERT_SOURCE_VIDEO, {"id": uuid.uuid4(), "profile": profile, **fields})
            row = await cur.fetchone()
        assert row is not None
        return source_video_from(row)

    async def source_video(self, profile: str, source_video_id: str) -> SourceVideo | None:
        if (vid := _uuid(source_video_id)) is None:
            return None
        row = await self._one(SELECT_SOURCE_VIDEO, {"id": vid, "profile": profile})
        return source_video_from(row) if row else None

    async def list_source_videos(self, profile: str) -> list[SourceVideo]:
        return [source_video_from(r) for r in await self._all(LIST_SOURCE_VIDEOS, {"profile": profile})]

    async def create_segment(
        self, profile: str, *, source_video_id: str, start_time: float, end_time: float, keywords: Sequence[str]
    ) -> Segment:
        params = {"id": uuid.uuid4(), "profile": profile, "source_video_id": uuid.UUID(source_video_id),
                  "start_time": start_time, "end_time": end_time, "keywords": list(keywords)}  # fmt: skip
        row = await self._one(INSERT_SEGMENT, params)
        assert row is not None
        return segment_from(row)

    async def list_segments(self, profile: str) -> list[Segment]:
        return [segment_from(r) for r in await self._all(LIST_SEGMENTS, {"profile": profile})]

    async def project_segments(self, profile: str, project_id: str) -> list[Segment]:
        if (pid := _uuid(project_id)) is None:
            return []
        rows = await self._all(LIST_PROJECT_SEGMENTS, {"project": pid, "profile": profile})
        return [segment_from(r) for r in rows]

    async def missing_segments(self, profile: str, segment_ids: Sequence[str]) -> list[str]:
        """The ids among `segment_ids` that are not the profile's segments."""
        parsed = {s: _uuid(s) for s in segment_ids}
        found = await self._all(SELECT_SEGMENTS_BY_ID, {"profile": profile, "ids": [u for u in parsed.values() if u]})
        known = {str(r["id"]) for r in found}
        return [s for s, u in parsed.items() if u is None or str(u) not in known]

    async def set_project_segments(self, profile: str, project_id: str, segment_ids: Sequence[str]) -> None:
        async with self._tx() as conn:
            pid = uuid.UUID(project_id)
            await conn.execute(CLEAR_PROJECT_SEGMENTS, {"project": pid})
            async with conn.cursor() as cur:
                await cur.executemany(
                    INSERT_PROJECT_SEGMENT,
                    [{"project": pid, "pos": i, "seg": uuid.UUID(s)} for i, s in enumerate(segment_ids)],
                )

    # ------------------------------------------------------------ clips

    async def clip(self, profile: str, clip_id: str) -> Clip | None:
        if (cid := _uuid(clip_id)) is None:
            return None
        row = await self._one(SELECT_CLIP, {"id": cid, "profile": profile})
        return clip_from(row) if row else None

    async def list_clips(self, profile: str, project_id: str) -> list[Clip]:
        if (pid := _uuid(project_id)) is None:
            return []
        return [clip_from(r) for r in await self._all(LIST_CLIPS, {"project": pid, "profile": profile})]

    async def update_clip_content(
        self,
        profile: str,
        clip_id: str,
        *,
        tts_text: str | None,
        srt_content: str | None,
        subtitle_settings: Mapping[str, Any] | None,
    ) -> ClipContent | None:
        if (cid := _uuid(clip_id)) is None:
            return None
        async with self._tx() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(CLIP_OWNED, {"id": cid, "profile": profile})
            if await cur.fetchone() is None:
                return None
            settings = Jsonb(dict(subtitle_settings)) if subtitle_settings is not None else None
            await cur.execute(
                UPSERT_CONTENT, {"id": cid, "tts_text": tts_text, "srt_content": srt_content, "settings": settings}
            )
            row = await cur.fetchone()
        assert row is not None
        return content_from(row)

    async def clip_content(self, profile: str, clip_id: str) -> ClipContent | None:
        clip = await self.clip(profile, clip_id)
        if clip is None:
            return None
        return clip.content or ClipContent(clip.id, "", "", {}, "", None, None)

    # ------------------------------------------------------------ fenced writes (one job attempt)

    @asynccontextmanager
    async def fenced(self, job_id: str, token: int) -> AsyncIterator[AsyncConnection[Any]]:
        """A transaction that runs only while attempt `token` still owns job `job_id`."""
        async with self._tx() as conn:
            cur = await conn.execute(HOLD_ATTEMPT, {"job": uuid.UUID(job_id), "token": token})
            if await cur.fetchone() is None:
                raise StaleFencingToken(job_id, token)
            yield conn

    async def add_clips(
        self, profile: str, project_id: str, clips: Sequence[NewClip], *, replace: bool, job_id: str, token: int
    ) -> list[Clip]:
        pid = uuid.UUID(project_id)
        async with self.fenced(job_id, token) as conn:
            if replace:
                await conn.execute(DELETE_PROJECT_CLIPS, {"project": pid, "profile": profile})
            for clip in clips:
                cid = uuid.uuid4()
                await conn.execute(INSERT_CLIP, {
                    "id": cid, "project": pid, "profile": profile, "variant_index": clip.variant_index,
                    "raw_video_key": clip.raw_video_key, "thumbnail_key": clip.thumbnail_key,
                    "srt_key": clip.srt_key, "audio_key": clip.audio_key, "duration_seconds": clip.duration_seconds,
                })  # fmt: skip
                await conn.execute(INSERT_CLIP_CONTENT, {
                    "id": cid, "tts_text": clip.tts_text, "srt_content": clip.srt_content,
                    "subtitle_settings": Jsonb(dict(clip.subtitle_settings)),
                })  # fmt: skip
        return await self.list_clips(profile, project_id)

    async def set_clip_status(
        self, profile: str, clip_id: str, status: ClipStatus, error: str, *, job_id: str, token: int
    ) -> bool:
        async with self.fenced(job_id, token) as conn:
            params = {"id": uuid.UUID(clip_id), "profile": profile, "status": status.value, "error": error}
            cur = await conn.execute(SET_CLIP_STATUS, params)
            return await cur.fetchone() is not None

    async def set_clip_media(self, profile: str, clip_id: str, *, job_id: str, token: int, **keys: Any) -> bool:
        async with self.fenced(job_id, token) as conn:
            cur = await conn.execute(SET_CLIP_MEDIA, {"id": uuid.UUID(clip_id), "profile": profile, **keys})
            return await cur.fetchone() is not None

    async def set_clip_speech(self, clip_id: str, *, key: str, timings: Any, job_id: str, token: int) -> None:
        async with self.fenced(job_id, token) as conn:
            await conn.execute(SET_CLIP_SPEECH, {"id": uuid.UUID(clip_id), "key": key, "timings": Jsonb(timings)})

    async def set_clip_srt(self, clip_id: str, srt: str, *, job_id: str, token: int) -> None:
        async with self.fenced(job_id, token) as conn:
            await conn.execute(SET_CLIP_SRT, {"id": uuid.UUID(clip_id), "srt": srt})

    async def record_export(
        self, clip_id: str, *, preset: str, output_key: str, size_bytes: int, job_id: str, token: int
    ) -> Export:
        async with self.fenced(job_id, token) as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(INSERT_EXPORT, {"id": uuid.uuid4(), "clip": uuid.UUID(clip_id), "preset": preset,
                                              "key": output_key, "size": size_bytes})  # fmt: skip
            row = await cur.fetchone()
        assert row is not None
        return export_from(row)
