"""Request bodies and form fields of the REST API, checked before any backend call.

JSON bodies are pydantic models FastAPI validates (errors → 400 listing fields).
The text fields of streamed multipart uploads arrive as strings and are checked
here with the same models (lax: "3" is 3, "true" is true).
"""

from __future__ import annotations

from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from editai_common.errors import FieldViolation
from services.gateway.errors import invalid_fields
from services.gateway.subtitles import SubtitleSettings

M = TypeVar("M", bound=BaseModel)

PresetName = Literal["tiktok", "instagram_reels", "youtube_shorts", "facebook_reels", "instagram_story", "generic"]
VariantCount = Annotated[int, Field(ge=1, le=10)]
Seconds = Annotated[float, Field(ge=1, le=600)]


class CreateProjectBody(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=r"\S")
    description: str = Field("", max_length=5000)
    target_duration: Seconds | None = None


class GenerateFromSegmentsBody(BaseModel):
    variant_count: VariantCount = 3
    selection_mode: Literal["random", "sequential", "weighted"] = "random"
    target_duration: Seconds = 30
    mute_source_voice: bool = False


class CreateSegmentBody(BaseModel):
    source_video_id: str = Field(min_length=1, max_length=128)
    start_time: float = Field(ge=0, le=24 * 3600)
    end_time: float = Field(gt=0)
    keywords: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _ordered(self) -> CreateSegmentBody:
        if self.end_time <= self.start_time:
            raise ValueError("end_time must be after start_time")
        return self


class ProjectSegmentsBody(BaseModel):
    segment_ids: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(max_length=1000)


class ClipContentBody(BaseModel):
    tts_text: str | None = Field(None, max_length=5000)
    srt_content: str | None = Field(None, max_length=200_000)
    subtitle_settings: SubtitleSettings | None = None


class RenderForm(BaseModel):
    """Form fields of POST /library/clips/{clip_id}/render."""

    model_config = ConfigDict(extra="ignore")

    preset_name: PresetName = "tiktok"
    enable_denoise: bool = False
    denoise_strength: float = Field(0.0, ge=0, le=10)
    enable_sharpen: bool = False
    sharpen_amount: float = Field(0.0, ge=0, le=3)
    enable_color: bool = False
    brightness: float = Field(0.0, ge=-1, le=1)
    contrast: float = Field(1.0, ge=0, le=3)
    saturation: float = Field(1.0, ge=0, le=3)
    shadow_depth: float | None = Field(None, ge=0, le=4)
    enable_glow: bool | None = None
    glow_blur: float | None = Field(None, ge=0, le=10)
    adaptive_sizing: bool | None = None
    elevenlabs_model: str = Field("", max_length=100)
    voice_id: str = Field("", max_length=100)
    subtitle_settings: str | None = Field(None, description="JSON object of subtitle settings (camelCase keys).")


class TtsForm(BaseModel):
    """Form fields of POST /tts/generate."""

    model_config = ConfigDict(extra="ignore")

    text: str = Field(min_length=1, max_length=5000, pattern=r"\S")
    voice_id: str = Field("", max_length=100)
    provider: Literal["", "elevenlabs", "local"] = ""
    model_id: str = Field("", max_length=100)
    remove_silence: bool = True
    min_silence_duration: float = Field(0.3, ge=0.1, le=2.0)
    silence_padding: float = Field(0.08, ge=0.02, le=0.3)


class GenerateFields(BaseModel):
    """Text fields of the multipart POST /library/projects/{id}/generate."""

    model_config = ConfigDict(extra="ignore")

    variant_count: VariantCount = 3


class JobFields(BaseModel):
    """Text fields of the multipart POST /jobs."""

    model_config = ConfigDict(extra="ignore")

    output_name: str = Field("", max_length=200)
    target_duration: Seconds = 20
    subtitle_settings: str | None = None
    variant_count: VariantCount = 1
    generate_audio: bool = False
    mute_source_voice: bool = False
    tts_text: str = Field("", max_length=5000)


def checked_fields(model: type[M], fields: dict[str, str]) -> M:
    """The text fields of a multipart upload as `model`; every bad field listed in one 400."""
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        violations = [
            FieldViolation(".".join(str(p) for p in e.get("loc", ())) or "form", str(e.get("msg", "invalid")))
            for e in exc.errors()
        ]
        raise invalid_fields(violations) from None
