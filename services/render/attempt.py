"""One attempt of one job as a pipeline sees it: the `JobContext` implementation.

Everything a pipeline writes goes through here and carries the attempt's fencing
token: progress (`report`, `stage`) and library writes (`library`). Once the attempt
has lost its job, every one of them raises LeaseLost and nothing is written.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from editai_common.errors import NotFound
from editai_common.ffmpeg import ProgressCallback
from editai_common.media_store import LocalMediaStore
from services.render.jobs import Job, JobStatus, LeaseLost
from services.render.pipelines.context import PipelineLibrary, SpeechPort
from services.render.ports import JobStore, LibraryStore, ProgressReporter
from services.render.records import Clip, ClipContent, ClipStatus, Export, NewClip, Project, Segment, SourceVideo

# Progress within one step is sent at most this often; step changes always go out.
REPORT_INTERVAL_SECONDS = 0.5


class AttemptMediaStore(LocalMediaStore):
    """The media store as one attempt writes to it: its partial files live in the attempt's
    scratch dir, so whoever removes that dir (the worker on every exit path, the reaper after a
    SIGKILL) removes them too, even while an orphaned ffmpeg still holds one open. The scratch
    dir is on the data volume, so publishing a file is still one atomic rename."""

    def __init__(self, root: Path, workdir: Path) -> None:
        super().__init__(root)
        self._partials = workdir / ".partial"
        self._partials.mkdir(parents=True, exist_ok=True)

    def partial_dir(self) -> Path:
        return self._partials


class AttemptLibrary:
    """`PipelineLibrary` bound to one attempt: reads scoped to the job's profile, writes fenced."""

    def __init__(self, store: LibraryStore, job: Job, attempt: Attempt) -> None:
        self._store = store
        self._job = job
        self._attempt = attempt
        self._profile = job.profile_id

    def _fence(self) -> dict[str, Any]:
        self._attempt.check_owned()
        return {"job_id": self._job.id, "token": self._job.fencing_token}

    async def project(self, project_id: str) -> Project:
        found = await self._store.project(self._profile, project_id)
        if found is None:
            raise NotFound(f"Project {project_id} does not exist.", reason="PROJECT_NOT_FOUND")
        return found

    async def project_segments(self, project_id: str) -> list[Segment]:
        return await self._store.project_segments(self._profile, project_id)

    async def source_video(self, source_video_id: str) -> SourceVideo:
        found = await self._store.source_video(self._profile, source_video_id)
        if found is None:
            raise NotFound(f"Source video {source_video_id} does not exist.", reason="SOURCE_VIDEO_NOT_FOUND")
        return found

    async def clip(self, clip_id: str) -> Clip:
        found = await self._store.clip(self._profile, clip_id)
        if found is None:
            raise NotFound(f"Clip {clip_id} does not exist.", reason="CLIP_NOT_FOUND")
        return found

    async def clip_content(self, clip_id: str) -> ClipContent:
        found = await self._store.clip_content(self._profile, clip_id)
        if found is None:
            raise NotFound(f"Clip {clip_id} does not exist.", reason="CLIP_NOT_FOUND")
        return found

    async def add_clips(self, project_id: str, clips: Sequence[NewClip], *, replace: bool = False) -> list[Clip]:
        return await self._store.add_clips(self._profile, project_id, clips, replace=replace, **self._fence())

    async def set_clip_status(self, clip_id: str, status: ClipStatus, error: str = "") -> None:
        await self._store.set_clip_status(self._profile, clip_id, status, error, **self._fence())

    async def set_clip_media(
        self,
        clip_id: str,
        *,
        raw_video_key: str | None = None,
        final_video_key: str | None = None,
        thumbnail_key: str | None = None,
        srt_key: str | None = None,
        audio_key: str | None = None,
        duration_seconds: float | None = None,
    ) -> None:
        await self._store.set_clip_media(
            self._profile, clip_id, raw_video_key=raw_video_key, final_video_key=final_video_key,
            thumbnail_key=thumbnail_key, srt_key=srt_key, audio_key=audio_key, duration_seconds=duration_seconds,
            **self._fence(),
        )  # fmt: skip

    async def set_clip_speech(self, clip_id: str, *, tts_audio_key: str, tts_timings: Any) -> None:
        await self.clip(clip_id)
        await self._store.set_clip_speech(clip_id, key=tts_audio_key, timings=tts_timings, **self._fence())

    async def set_clip_srt(self, clip_id: str, srt_content: str) -> None:
        await self.clip(clip_id)
        await self._store.set_clip_srt(clip_id, srt_content, **self._fence())

    async def record_export(self, clip_id: str, *, preset: str, output_key: str, size_bytes: int) -> Export:
        await self.clip(clip_id)
        return await self._store.record_export(
            clip_id, preset=preset, output_key=output_key, size_bytes=size_bytes, **self._fence()
        )


class Attempt:
    """The `JobContext` of one attempt (see services/render/pipelines/context.py)."""

    def __init__(
        self,
        job: Job,
        *,
        media: LocalMediaStore,
        workdir: Path,
        library_store: LibraryStore,
        speech: SpeechPort,
        jobs: JobStore,
        progress: ProgressReporter,
    ) -> None:
        self.job = job
        self.media = media
        self.workdir = workdir
        self.speech = speech
        self.library: PipelineLibrary = AttemptLibrary(library_store, job, self)
        self._jobs = jobs
        self._progress = progress
        self._started = time.monotonic()
        remaining = (job.deadline_at - datetime.now(UTC)).total_seconds() if job.deadline_at else 3600.0
        self._deadline = self._started + max(0.0, remaining)
        self._percentage = 0.0
        self._last_step = ""
        self._last_sent = 0.0
        self.lost_reason: str | None = None

    def lose(self, reason: str) -> None:
        """The attempt no longer owns its job; every later write raises LeaseLost."""
        if self.lost_reason is None:
            self.lost_reason = reason

    def check_owned(self) -> None:
        if self.lost_reason is not None:
            raise LeaseLost(f"Job {self.job.id} attempt {self.job.attempt}: {self.lost_reason}")

    def time_remaining(self) -> float:
        return max(0.0, self._deadline - time.monotonic())

    def estimate_remaining(self, percentage: float) -> float | None:
        if percentage <= 0:
            return None
        elapsed = time.monotonic() - self._started
        return elapsed * (100.0 - percentage) / percentage

    async def report(self, percentage: float, step: str, eta_seconds: float | None = None) -> None:
        self.check_owned()
        self._percentage = max(self._percentage, min(100.0, float(percentage)))
        now = time.monotonic()
        if step == self._last_step and now - self._last_sent < REPORT_INTERVAL_SECONDS:
            return
        self._last_step, self._last_sent = step, now
        if eta_seconds is None:
            eta_seconds = self.estimate_remaining(self._percentage)
        # Durable in the job row first (fenced: raises once the attempt lost its job), then the live view.
        await self._jobs.save_progress(self.job.id, self.job.fencing_token, self._percentage, step)
        await self._progress.report(
            job_id=self.job.id, project_id=self.job.project_id, profile_id=self.job.profile_id,
            status=JobStatus.RUNNING, percentage=self._percentage, step=step,
            fencing_token=self.job.fencing_token, eta_seconds=eta_seconds,
        )  # fmt: skip

    def stage(self, start_pct: float, end_pct: float, step: str) -> ProgressCallback:
        async def on_progress(fraction: float) -> None:
            await self.report(start_pct + (end_pct - start_pct) * max(0.0, min(1.0, fraction)), step)

        return on_progress

    @property
    def percentage(self) -> float:
        return self._percentage
