"""The synthesis cache, shared by every tts replica: audio in the media store, the
index in Redis (all keys under the deployment's prefix).

    <prefix>:tts:cache:meta        hash   digest -> SpeechRecord JSON
    <prefix>:tts:cache:sizes       hash   digest -> bytes of its audio
    <prefix>:tts:cache:bytes       string total bytes indexed
    <prefix>:tts:cache:lru         zset   digest scored by last use (wall clock, shared by replicas)
    <prefix>:tts:cache:fill:<d>    string a replica is synthesizing digest d (lock with a TTL)

Adding an entry and evicting the least recently used ones past the size bound is
one Lua script, so replicas never double-count or evict the same entry twice. The
audio files of evicted entries are deleted afterwards; a hit whose file is gone is
dropped from the index and counts as a miss. Redis keeps the index across service
restarts; each record is also stored as `tts/<digest>.json` beside its audio, so
an index Redis lost is rebuilt: lazily on a miss, and wholesale at start when the
index is gone (`reconcile`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

import redis.exceptions

from editai_common.errors import Unavailable
from editai_common.media_store import MediaStore
from editai_common.redis_client import KeySpace
from services.tts.records import CACHE_FOLDER, SpeechRecord, sidecar_key

log = logging.getLogger("editai.tts.cache")

_PUT_AND_EVICT = """
local meta, sizes, total, lru = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local digest, record, size, now, max_bytes = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
if redis.call('HSETNX', meta, digest, record) == 1 then
  redis.call('HSET', sizes, digest, size)
  redis.call('INCRBY', total, size)
end
redis.call('ZADD', lru, now, digest)
local victims = {}
local current = tonumber(redis.call('GET', total) or '0')
while current > max_bytes do
  local oldest = redis.call('ZRANGE', lru, 0, 0)
  if #oldest == 0 or oldest[1] == digest then break end
  local victim = oldest[1]
  local victim_size = tonumber(redis.call('HGET', sizes, victim) or '0')
  table.insert(victims, victim)
  table.insert(victims, redis.call('HGET', meta, victim) or '')
  redis.call('ZREM', lru, victim)
  redis.call('HDEL', meta, victim)
  redis.call('HDEL', sizes, victim)
  current = redis.call('DECRBY', total, victim_size)
end
return victims
"""

_FORGET = """
local meta, sizes, total, lru = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
if redis.call('HDEL', meta, ARGV[1]) == 1 then
  local size = tonumber(redis.call('HGET', sizes, ARGV[1]) or '0')
  redis.call('HDEL', sizes, ARGV[1])
  redis.call('DECRBY', total, size)
end
redis.call('ZREM', lru, ARGV[1])
return 1
"""

_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _redis_unavailable(method: Callable[_P, Coroutine[Any, Any, _R]]) -> Callable[_P, Coroutine[Any, Any, _R]]:
    """A Redis outage is UNAVAILABLE for the caller (retry later), never an INTERNAL with a trace."""

    @functools.wraps(method)
    async def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return await method(*args, **kwargs)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as error:
            message = "The tts cache (Redis) is unreachable; retry shortly."
            raise Unavailable(message, reason="CACHE_UNAVAILABLE") from error

    return wrapper


class RedisSpeechCache:
    def __init__(self, redis: Any, keys: KeySpace, store: MediaStore, *, max_bytes: int) -> None:
        self._redis = redis
        self._store = store
        self.max_bytes = max_bytes
        self._meta = keys.key("cache", "meta")
        self._sizes = keys.key("cache", "sizes")
        self._total = keys.key("cache", "bytes")
        self._lru = keys.key("cache", "lru")
        self._keys = keys
        self._put_script = redis.register_script(_PUT_AND_EVICT)
        self._forget_script = redis.register_script(_FORGET)
        self._unlock_script = redis.register_script(_UNLOCK)

    def _index(self) -> list[str]:
        return [self._meta, self._sizes, self._total, self._lru]

    @_redis_unavailable
    async def get(self, digest: str) -> SpeechRecord | None:
        """The cached record, touched as most recently used; None on a miss."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hget(self._meta, digest)
            pipe.zadd(self._lru, {digest: time.time()}, xx=True)
            raw, _ = await pipe.execute()
        if raw is None:
            return await self._recover(digest)
        record = SpeechRecord.from_json(raw)
        if not await self._store.exists(record.audio_key):
            log.warning("cached audio missing; forgetting the entry", extra={"digest": digest})
            await self._forget_script(keys=self._index(), args=[digest])
            return None
        return record

    @_redis_unavailable
    async def put(self, digest: str, record: SpeechRecord) -> int:
        """Stores the record beside its audio, indexes it, evicts LRU entries past the bound; returns how many."""
        async with self._store.writer(sidecar_key(digest)) as writer:
            await writer.write(record.to_json().encode())
        return await self._index_record(digest, record, time.time())

    async def _index_record(self, digest: str, record: SpeechRecord, last_used: float) -> int:
        victims = await self._put_script(
            keys=self._index(),
            args=[digest, record.to_json(), record.size_bytes, last_used, self.max_bytes],
        )
        # The script answers digest, record, digest, record, ...
        evicted = list(zip(victims[::2], victims[1::2], strict=True))
        for victim, raw in evicted:
            await self._store.delete(sidecar_key(victim.decode() if isinstance(victim, bytes) else victim))
            if raw:
                await self._store.delete(SpeechRecord.from_json(raw).audio_key)
        if evicted:
            log.info("cache evicted", extra={"entries": len(evicted)})
        return len(evicted)

    async def _read_sidecar(self, digest: str) -> SpeechRecord | None:
        path = self._store.local_path(sidecar_key(digest))
        try:
            record = SpeechRecord.from_json(await asyncio.to_thread(path.read_bytes))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return record if await self._store.exists(record.audio_key) else None

    async def _recover(self, digest: str) -> SpeechRecord | None:
        """An entry on disk that Redis forgot (Redis lost its data): index it again and use it."""
        record = await self._read_sidecar(digest)
        if record is not None:
            await self._index_record(digest, record, time.time())
            log.info("cache entry re-indexed from the media store", extra={"digest": digest})
        return record

    @_redis_unavailable
    async def reconcile(self) -> int:
        """At start: when Redis has no index at all, rebuild it from the media store so the
        size bound holds again (last use = file time). Returns the entries indexed."""
        if await self._redis.exists(self._total):
            return 0
        folder = self._store.local_path(CACHE_FOLDER)

        def sidecars() -> list[tuple[float, str]]:
            if not folder.is_dir():
                return []
            return sorted((p.stat().st_mtime, p.stem) for p in folder.glob("*.json"))

        indexed = 0
        for mtime, digest in await asyncio.to_thread(sidecars):
            record = await self._read_sidecar(digest)
            if record is not None:
                await self._index_record(digest, record, mtime)
                indexed += 1
        return indexed

    @_redis_unavailable
    async def total_bytes(self) -> int:
        return int(await self._redis.get(self._total) or 0)

    @_redis_unavailable
    async def try_lock(self, digest: str, ttl_seconds: float) -> str | None:
        """Claims the right to synthesize `digest` across replicas; the token unlocks it."""
        token = uuid.uuid4().hex
        claimed = await self._redis.set(
            self._keys.key("cache", "fill", digest), token, nx=True, px=max(1, int(ttl_seconds * 1000))
        )
        return token if claimed else None

    @_redis_unavailable
    async def is_locked(self, digest: str) -> bool:
        return bool(await self._redis.exists(self._keys.key("cache", "fill", digest)))

    @_redis_unavailable
    async def unlock(self, digest: str, token: str) -> None:
        await self._unlock_script(keys=[self._keys.key("cache", "fill", digest)], args=[token])
