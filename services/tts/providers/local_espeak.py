"""espeak-ng as the local speech engine, through `espeakng-loader` and ctypes.

libespeak-ng keeps global state and is not thread-safe, so one dedicated worker
thread owns it: every call is queued on that thread and awaited from the event
loop, which never blocks. The engine runs in synchronous mode and hands PCM and
events to a callback; its WORD events (character position, length, audio
position in ms) become per-character timings (`timings.characters_from_word_marks`).

Voice ids are espeak-ng language codes (`en-us`, `de`, `fr-fr`); the engine's file
identifiers (`gmw/en-US`) and names (`English (America)`) are accepted as well.
"""

from __future__ import annotations

import asyncio
import ctypes
import io
import threading
import time
import wave
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from services.tts.errors import LocalEngineFailed, VoiceNotFound
from services.tts.speech import ProviderName, SpeechAudio, SpeechRequest, VoiceInfo
from services.tts.timings import WordMark, characters_from_word_marks

MODEL_ID = "espeak-ng"
DEFAULT_RATE_WPM = 175

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PARAM_RATE = 1
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1


class _Event(ctypes.Structure):
    _fields_ = (
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    )


class _Voice(ctypes.Structure):
    _fields_ = (
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    )


_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


@dataclass(frozen=True)
class EngineVoice:
    language: str  # the voice id we expose
    identifier: str
    name: str
    gender: int


@dataclass(frozen=True)
class EngineOutput:
    pcm: bytes  # 16-bit mono little-endian
    sample_rate: int
    marks: tuple[WordMark, ...]


def _languages(pointer: int | None) -> list[str]:
    """espeak_VOICE.languages: (priority byte, NUL-terminated name)*, then a 0 byte."""
    if not pointer:
        return []
    raw = ctypes.cast(pointer, ctypes.POINTER(ctypes.c_char))
    found: list[str] = []
    position = 0
    while raw[position] != b"\x00":
        position += 1  # priority byte
        start = position
        while raw[position] != b"\x00":
            position += 1
        found.append(ctypes.string_at(ctypes.addressof(raw.contents) + start, position - start).decode())
        position += 1
    return found


class EspeakEngine:
    """libespeak-ng on one thread of its own; every method here runs on that thread."""

    def __init__(self) -> None:
        self._library: Any = None
        self.sample_rate = 0
        self._pcm = bytearray()
        self._marks: list[WordMark] = []
        self._callback = _SynthCallback(self._on_audio)  # kept referenced: C holds the pointer

    def _load(self) -> Any:
        if self._library is not None:
            return self._library
        import espeakng_loader

        library = ctypes.CDLL(espeakng_loader.get_library_path())
        library.espeak_Initialize.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int)
        library.espeak_SetVoiceByName.argtypes = (ctypes.c_char_p,)
        library.espeak_SetParameter.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_int)
        library.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
        library.espeak_Synth.argtypes = (
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        )
        data_path = espeakng_loader.get_data_path().encode()
        rate = library.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, _INITIALIZE_DONT_EXIT)
        if rate <= 0:
            raise LocalEngineFailed("espeak-ng could not start (its voice data was not found).")
        library.espeak_SetSynthCallback(self._callback)
        self.sample_rate = rate
        self._library = library
        return library

    def _on_audio(self, wav: Any, samples: int, events: Any) -> int:
        if samples > 0:
            self._pcm.extend(ctypes.string_at(wav, samples * 2))
        index = 0
        while events[index].type != _EVENT_LIST_TERMINATED:
            event = events[index]
            if event.type == _EVENT_WORD:
                # text_position counts characters from 1; audio_position is in ms.
                self._marks.append(WordMark(event.text_position - 1, event.length, event.audio_position / 1000))
            index += 1
        return 0  # 0 = continue

    def voices(self) -> list[EngineVoice]:
        library = self._load()
        listed = library.espeak_ListVoices(None)
        voices: list[EngineVoice] = []
        seen: set[str] = set()
        index = 0
        while listed[index]:
            voice = listed[index].contents
            languages = _languages(voice.languages)
            language = (languages[0] if languages else voice.identifier.decode()).lower()
            if language not in seen:
                seen.add(language)
                voices.append(EngineVoice(language, voice.identifier.decode(), voice.name.decode(), voice.gender))
            index += 1
        return voices

    def synthesize(self, text: str, identifier: str, rate_wpm: int) -> EngineOutput:
        library = self._load()
        if library.espeak_SetVoiceByName(identifier.encode()) != 0:
            raise LocalEngineFailed(f"espeak-ng could not load voice {identifier!r}.")
        library.espeak_SetParameter(_PARAM_RATE, rate_wpm, 0)
        self._pcm = bytearray()
        self._marks = []
        encoded = text.encode()
        status = library.espeak_Synth(encoded, len(encoded) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        if status != 0:
            raise LocalEngineFailed(f"espeak-ng failed to synthesize (status {status}).")
        return EngineOutput(bytes(self._pcm), self.sample_rate, tuple(self._marks))


def wav_bytes(pcm: bytes, sample_rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm)
    return buffer.getvalue()


_shared_lock = threading.Lock()
_shared: tuple[EspeakEngine, ThreadPoolExecutor] | None = None


def shared_engine() -> tuple[EspeakEngine, ThreadPoolExecutor]:
    """The process's one engine and the one thread allowed to touch it (made on first use)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = (EspeakEngine(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="espeak-ng"))
        return _shared


class LocalEspeakProvider:
    name = ProviderName.LOCAL
    default_model_id = MODEL_ID

    def __init__(self, default_voice_id: str = "en-us") -> None:
        self.default_voice_id = default_voice_id.lower()
        # libespeak-ng has global state and is not thread-safe: one engine, one thread per process.
        self._engine, self._thread = shared_engine()
        self._voices: dict[str, EngineVoice] | None = None

    async def _run(self, function: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._thread, function, *args)

    async def _voice_table(self) -> dict[str, EngineVoice]:
        if self._voices is None:
            table: dict[str, EngineVoice] = {}
            voices: list[EngineVoice] = await self._run(self._engine.voices)
            for voice in voices:
                for alias in (voice.language, voice.identifier.lower(), voice.name.lower()):
                    table.setdefault(alias, voice)
            # Then bare codes by file name, so "en" is gmw/en (and not the first voice that speaks some en).
            for voice in voices:
                table.setdefault(voice.identifier.rsplit("/", 1)[-1].lower(), voice)
            self._voices = table
        return self._voices

    async def resolve_voice(self, voice_id: str) -> EngineVoice:
        voice = (await self._voice_table()).get(voice_id.strip().lower())
        if voice is None:
            raise VoiceNotFound(self.name.value, voice_id)
        return voice

    async def synthesize(self, request: SpeechRequest, *, deadline: float) -> SpeechAudio:
        voice = await self.resolve_voice(request.voice_id)
        rate = max(80, min(450, round(DEFAULT_RATE_WPM * request.voice_settings.speed)))
        remaining = max(0.01, deadline - time.monotonic())
        async with asyncio.timeout(remaining):
            output: EngineOutput = await self._run(self._engine.synthesize, request.text, voice.identifier, rate)
        duration = len(output.pcm) / 2 / output.sample_rate
        characters = characters_from_word_marks(request.text, output.marks, duration)
        return SpeechAudio(
            audio=wav_bytes(output.pcm, output.sample_rate),
            extension="wav",
            content_type="audio/wav",
            sample_rate=output.sample_rate,
            characters=tuple(characters),
            duration_seconds=duration,
            voice_id=voice.language,
        )

    async def list_voices(self, *, deadline: float) -> list[VoiceInfo]:
        table = await self._voice_table()
        unique = {voice.language: voice for voice in table.values()}
        return [
            VoiceInfo(
                voice_id=voice.language,
                name=voice.name,
                provider=self.name,
                language=voice.language,
                category="espeak-ng",
                labels={
                    "gender": {1: "male", 2: "female"}.get(voice.gender, "neutral"),
                    "identifier": voice.identifier,
                },
            )
            for voice in sorted(unique.values(), key=lambda v: v.language)
        ]

    async def close(self) -> None:
        # The engine thread is process-wide and idles at no cost; the process exit ends it.
        return None
