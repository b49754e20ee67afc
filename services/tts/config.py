"""Settings of the tts service, read once from EDITAI_* at start.

EDITAI_ELEVENLABS_BASE_URL          https://api.elevenlabs.io
EDITAI_ELEVENLABS_API_KEYS          comma-separated; when set, ElevenLabs is the default provider
EDITAI_ELEVENLABS_DEFAULT_VOICE_ID  21m00Tcm4TlvDq8ikWAM
EDITAI_ELEVENLABS_MODEL_ID          eleven_flash_v2_5
EDITAI_ELEVENLABS_CONNECT_TIMEOUT   5 (seconds)
EDITAI_ELEVENLABS_READ_TIMEOUT      30 (seconds)
EDITAI_ELEVENLABS_MAX_CONNECTIONS   100 (pool size of the one shared client)
EDITAI_ELEVENLABS_MAX_ATTEMPTS      3
EDITAI_ELEVENLABS_DEADLINE          60 (seconds for one call, retries included; the RPC deadline wins if sooner)
EDITAI_ELEVENLABS_KEY_COOLDOWN      300 (seconds a key answering 401/402 is set aside)
EDITAI_TTS_LOCAL_VOICE              en-us (espeak-ng voice when none is asked for)
EDITAI_TTS_CACHE_MAX_MB             512 (audio kept in the cache, least recently used evicted first)
EDITAI_TTS_SILENCE_NOISE_DB         -40 (what silencedetect counts as silence)
EDITAI_TTS_REQUEST_TIMEOUT          120 (seconds of work for a call that carries no deadline)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from editai_common.settings import CommonSettings, ConfigError, env_float, env_int, env_str, service_port


@dataclass(frozen=True)
class ElevenLabsSettings:
    base_url: str
    # repr=False: the settings object may be logged; the keys must never be.
    api_keys: tuple[str, ...] = field(repr=False)
    default_voice_id: str
    model_id: str
    connect_timeout: float
    read_timeout: float
    max_connections: int
    max_attempts: int
    deadline_seconds: float
    key_cooldown_seconds: float

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ElevenLabsSettings:
        keys = tuple(k.strip() for k in env_str("EDITAI_ELEVENLABS_API_KEYS", "", env).split(",") if k.strip())
        base_url = env_str("EDITAI_ELEVENLABS_BASE_URL", "https://api.elevenlabs.io", env).rstrip("/")
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError("EDITAI_ELEVENLABS_BASE_URL must start with http:// or https://.")
        return cls(
            base_url=base_url,
            api_keys=keys,
            default_voice_id=env_str("EDITAI_ELEVENLABS_DEFAULT_VOICE_ID", "21m00Tcm4TlvDq8ikWAM", env),
            model_id=env_str("EDITAI_ELEVENLABS_MODEL_ID", "eleven_flash_v2_5", env),
            connect_timeout=env_float("EDITAI_ELEVENLABS_CONNECT_TIMEOUT", 5.0, env, minimum=0.01),
            read_timeout=env_float("EDITAI_ELEVENLABS_READ_TIMEOUT", 30.0, env, minimum=0.01),
            max_connections=env_int("EDITAI_ELEVENLABS_MAX_CONNECTIONS", 100, env, minimum=1),
            max_attempts=env_int("EDITAI_ELEVENLABS_MAX_ATTEMPTS", 3, env, minimum=1),
            deadline_seconds=env_float("EDITAI_ELEVENLABS_DEADLINE", 60.0, env, minimum=0.1),
            key_cooldown_seconds=env_float("EDITAI_ELEVENLABS_KEY_COOLDOWN", 300.0, env),
        )


@dataclass(frozen=True)
class Settings:
    common: CommonSettings
    port: int
    elevenlabs: ElevenLabsSettings
    local_voice: str
    cache_max_bytes: int
    silence_noise_db: float
    request_timeout_seconds: float

    @property
    def elevenlabs_enabled(self) -> bool:
        return bool(self.elevenlabs.api_keys)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        noise_raw = env_str("EDITAI_TTS_SILENCE_NOISE_DB", "-40", env)
        try:
            noise_db = float(noise_raw)
        except ValueError:
            raise ConfigError(f"EDITAI_TTS_SILENCE_NOISE_DB={noise_raw!r} is not a number.") from None
        return cls(
            common=CommonSettings.from_env(env),
            port=service_port("tts", env),
            elevenlabs=ElevenLabsSettings.from_env(env),
            local_voice=env_str("EDITAI_TTS_LOCAL_VOICE", "en-us", env),
            cache_max_bytes=int(env_float("EDITAI_TTS_CACHE_MAX_MB", 512.0, env) * 1024 * 1024),
            silence_noise_db=noise_db,
            request_timeout_seconds=env_float("EDITAI_TTS_REQUEST_TIMEOUT", 120.0, env, minimum=1.0),
        )
