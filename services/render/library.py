"""The library RPCs' domain: projects, source videos, segments, clips and clip content.

Every call is scoped to the caller's profile; another profile's id is NOT_FOUND, the
same answer as an id that never existed (no existence oracle).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from editai_common.errors import NotFound
from editai_common.ffmpeg import probe_media
from editai_common.media_store import LocalMediaStore
from services.render.ports import LibraryStore
from services.render.records import Clip, ClipContent, Project, Segment, SourceVideo
from services.render.scheduler import JobScheduler, project_not_found
from services.render.validation import Violations

DEFAULT_TARGET_DURATION = 30.0


def _not_found(kind: str, identifier: str) -> NotFound:
    return NotFound(f"{kind.replace('_', ' ').capitalize()} {identifier} does not exist.",
                    reason=f"{kind.upper()}_NOT_FOUND")  # fmt: skip


@dataclass
class Library:
    store: LibraryStore
    media: LocalMediaStore
    scheduler: JobScheduler

    # ------------------------------------------------------------ projects

    async def create_project(self, profile: str, *, name: str, description: str, target_duration: float) -> Project:
        v = Violations()
        v.require("name", name)
        if len(name) > 200:
            v.add("name", "must be at most 200 characters")
        if len(description) > 5000:
            v.add("description", "must be at most 5000 characters")
        if target_duration != 0:
            v.number("target_duration", target_duration, 1.0, 600.0)
        v.raise_if_any()
        return await self.store.create_project(profile, name=name.strip(), description=description,
                                               target_duration=target_duration or DEFAULT_TARGET_DURATION)  # fmt: skip

    async def project(self, profile: str, project_id: str) -> Project:
        found = await self.store.project(profile, project_id)
        if found is None:
            raise project_not_found(project_id)
        return found

    async def list_projects(self, profile: str, *, limit: int, offset: int) -> list[Project]:
        return await self.store.list_projects(profile, limit=limit, offset=offset)

    async def delete_project(self, profile: str, project_id: str) -> None:
        """Cancels the project's active job, then deletes it, its clips and their media."""
        await self.project(profile, project_id)
        await self.scheduler.cancel_project(profile, project_id)
        clips = await self.store.list_clips(profile, project_id)
        if not await self.store.delete_project(profile, project_id):
            raise project_not_found(project_id)
        for clip in clips:
            await self.media.delete_prefix(f"clips/{clip.id}")
        await self.media.delete_prefix(f"projects/{project_id}")

    # ------------------------------------------------------------ source videos and segments

    async def create_source_video(self, profile: str, *, media_key: str, name: str) -> SourceVideo:
        v = Violations()
        v.media_key("media_key", media_key)
        v.raise_if_any()
        if not await self.media.exists(media_key):
            raise NotFound(f"Media {media_key} does not exist.", reason="MEDIA_NOT_FOUND")
        info = await probe_media(self.media.local_path(media_key))  # non-media: UNSUPPORTED_MEDIA
        if not info.has_video:
            v.add("media_key", "the file has no video stream")
            v.raise_if_any()
        return await self.store.create_source_video(
            profile, name=name.strip() or media_key.rsplit("/", 1)[-1], media_key=media_key,
            duration_seconds=info.duration_seconds, width=info.width, height=info.height, rotation=info.rotation,
            has_audio=info.has_audio, size_bytes=await self.media.size(media_key),
        )  # fmt: skip

    async def source_video(self, profile: str, source_video_id: str) -> SourceVideo:
        found = await self.store.source_video(profile, source_video_id)
        if found is None:
            raise _not_found("source_video", source_video_id)
        return found

    async def list_source_videos(self, profile: str) -> list[SourceVideo]:
        return await self.store.list_source_videos(profile)

    async def create_segment(
        self, profile: str, *, source_video_id: str, start_time: float, end_time: float, keywords: Sequence[str]
    ) -> Segment:
        v = Violations()
        v.require("source_video_id", source_video_id)
        v.number("start_time", start_time, 0.0, 24 * 3600.0)
        if not end_time > start_time:
            v.add("end_time", "must be greater than start_time")
        cleaned = [k.strip() for k in keywords if k.strip()]
        if len(cleaned) > 50 or any(len(k) > 100 for k in cleaned):
            v.add("keywords", "at most 50 keywords of at most 100 characters each")
        v.raise_if_any()
        video = await self.source_video(profile, source_video_id)
        if end_time > video.duration_seconds + 0.05:
            v.add("end_time", f"must not exceed the source video's duration ({video.duration_seconds:.3f} s)")
            v.raise_if_any()
        return await self.store.create_segment(profile, source_video_id=video.id, start_time=start_time,
                                               end_time=end_time, keywords=cleaned)  # fmt: skip

    async def list_segments(self, profile: str, project_id: str) -> list[Segment]:
        if not project_id:
            return await self.store.list_segments(profile)
        await self.project(profile, project_id)
        return await self.store.project_segments(profile, project_id)

    async def set_project_segments(self, profile: str, project_id: str, segment_ids: Sequence[str]) -> list[Segment]:
        await self.project(profile, project_id)
        v = Violations()
        if len(segment_ids) > 500:
            v.add("segment_ids", "at most 500 segments")
        if len(set(segment_ids)) != len(segment_ids):
            v.add("segment_ids", "must not repeat a segment")
        v.raise_if_any()
        missing = await self.store.missing_segments(profile, segment_ids)
        if missing:
            raise NotFound(f"Segment {missing[0]} does not exist.", reason="SEGMENT_NOT_FOUND")
        await self.store.set_project_segments(profile, project_id, segment_ids)
        return await self.store.project_segments(profile, project_id)

    # ------------------------------------------------------------ clips

    async def list_clips(self, profile: str, project_id: str) -> list[Clip]:
        await self.project(profile, project_id)
        return await self.store.list_clips(profile, project_id)

    async def clip(self, profile: str, clip_id: str) -> Clip:
        found = await self.store.clip(profile, clip_id)
        if found is None:
            raise _not_found("clip", clip_id)
        return found

    async def update_clip_content(
        self,
        profile: str,
        clip_id: str,
        *,
        tts_text: str | None,
        srt_content: str | None,
        subtitle_settings: Mapping[str, Any] | None,
    ) -> ClipContent:
        v = Violations()
        if tts_text is not None and len(tts_text) > 5000:
            v.add("tts_text", "must be at most 5000 characters")
        if srt_content is not None and len(srt_content) > 200_000:
            v.add("srt_content", "must be at most 200000 characters")
        v.raise_if_any()
        content = await self.store.update_clip_content(profile, clip_id, tts_text=tts_text, srt_content=srt_content,
                                                       subtitle_settings=subtitle_settings)  # fmt: skip
        if content is None:
            raise _not_found("clip", clip_id)
        return content
