"""What a pipeline receives: `JobContext`, and the ports it may use.

A pipeline is `async def run(ctx: JobContext) -> JobOutcome`, registered in
`services.render.pipelines.PIPELINES`. The worker builds the context for one attempt
of one job and owns everything around it: the lease, cancel, the deadline, the
temporary directory and the terminal status. A pipeline only does its work:

    async def generate_raw_clips(ctx: JobContext) -> JobOutcome:
        source = ctx.media.local_path(ctx.job.params["video_key"])
        await ctx.report(2, "probing source")
        ...
        await run_ffmpeg([...], time_limit=ctx.time_remaining(), expected_seconds=d,
                         on_progress=ctx.stage(10, 60, "rendering variant 1"))
        clip = await ctx.library.add_clips(project_id, [NewClip(...)])
        return JobOutcome(output_keys=(key,))

Rules for pipelines:
- Scratch files go under `ctx.workdir` (deleted on every exit path, cancel included).
- Outputs go to the media store through `ctx.media.temp_path(key)` / `writer(key)`
  (atomic), under keys that include `ctx.job.fencing_token` or are fresh, so a stale
  attempt can never clobber a newer attempt's file before its fenced write is refused.
  Under `jobs.attempt_output_prefixes(...)` (`jobs/<job>/<token>/…`,
  `projects/<project>/clips/<job>-<token>/…`) they are deleted when the attempt does not
  succeed, so a cancelled or failed job leaves no half-made outputs behind.
- Every ffmpeg run takes `time_limit=ctx.time_remaining()`.
- `report`, `library` and the fenced writes raise `LeaseLost` once the attempt no longer
  owns the job; let it propagate (the worker stops and writes nothing more).
- Raise `PipelineError(message, reason=...)` for a failure with a readable reason;
  `editai_common.errors.ServiceError` (e.g. UNSUPPORTED_MEDIA) is reported the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from editai_common.ffmpeg import ProgressCallback
from editai_common.media_store import LocalMediaStore
from services.render.jobs import Job
from services.render.records import Clip, ClipContent, ClipStatus, Export, NewClip, Project, Segment, SourceVideo


class PipelineLibrary(Protocol):
    """The library as one attempt of one job sees it: reads by id, writes fenced by its token.

    Reads are scoped to the job's profile (another profile's id raises NotFound).
    Every write checks, in the same statement, that this attempt still holds the job
    and raises `LeaseLost` (StaleFencingToken) otherwise.
    """

    async def project(self, project_id: str) -> Project: ...

    async def project_segments(self, project_id: str) -> list[Segment]: ...

    async def source_video(self, source_video_id: str) -> SourceVideo: ...

    async def clip(self, clip_id: str) -> Clip: ...

    async def clip_content(self, clip_id: str) -> ClipContent: ...

    async def add_clips(self, project_id: str, clips: Sequence[NewClip], *, replace: bool = False) -> list[Clip]:
        """Adds clips to the project (`replace`: removes its previous clips first), atomically."""
        ...

    async def set_clip_status(self, clip_id: str, status: ClipStatus, error: str = "") -> None: ...

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
        """Sets the given media keys (None leaves a key as it is)."""
        ...

    async def set_clip_speech(self, clip_id: str, *, tts_audio_key: str, tts_timings: Any) -> None:
        """Stores the voiceover made for a clip and its timings (JSON-able)."""
        ...

    async def set_clip_srt(self, clip_id: str, srt_content: str) -> None: ...

    async def record_export(self, clip_id: str, *, preset: str, output_key: str, size_bytes: int) -> Export: ...


@dataclass(frozen=True)
class CharacterTiming:
    character: str
    start_seconds: float
    end_seconds: float


@dataclass(frozen=True)
class WordTiming:
    word: str
    start_seconds: float
    end_seconds: float
    char_start: int
    char_end: int


@dataclass(frozen=True)
class SpeechResult:
    audio_key: str
    content_type: str
    duration_seconds: float
    characters: tuple[CharacterTiming, ...] = ()
    words: tuple[WordTiming, ...] = ()
    cache_hit: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)


class SpeechPort(Protocol):
    """Text to speech through the TTS service (its audio lands in the shared media store)."""

    async def synthesize(
        self,
        text: str,
        *,
        voice_id: str = "",
        model_id: str = "",
        provider: str = "",
        remove_silence: bool = False,
        min_silence_duration: float | None = None,
        silence_padding: float | None = None,
        time_limit: float = 120.0,
    ) -> SpeechResult: ...


class JobContext(Protocol):
    """One attempt of one job, as handed to a pipeline (see the module docstring)."""

    job: Job
    media: LocalMediaStore
    workdir: Path
    library: PipelineLibrary
    speech: SpeechPort

    def time_remaining(self) -> float:
        """Seconds left before the job's deadline (never negative)."""
        ...

    async def report(self, percentage: float, step: str, eta_seconds: float | None = None) -> None:
        """Reports progress (0–100, never backwards); raises LeaseLost if the attempt lost its job.

        Without `eta_seconds` an estimate from the elapsed time is sent.
        """
        ...

    def stage(self, start_pct: float, end_pct: float, step: str) -> ProgressCallback:
        """A `run_ffmpeg(on_progress=...)` callback mapping a 0–1 fraction into start_pct..end_pct."""
        ...


__all__ = [
    "CharacterTiming",
    "JobContext",
    "PipelineLibrary",
    "SpeechPort",
    "SpeechResult",
    "WordTiming",
]
