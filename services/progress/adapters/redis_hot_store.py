"""The hot store in Redis: one hash per job, a "latest job" key per project, pub/sub fan-out.

Keys (all under the configured prefix, KeySpace(prefix, "progress")):
    <prefix>:progress:job:<job_id>                 hash, the job's record
    <prefix>:progress:project:<project_id>:latest  string, the project's newest job id
    <prefix>:progress:events                       pub/sub channel, every accepted change

An update is ONE Lua script: read, apply the domain rules (domain.apply_update),
write, bump the sequence and publish — atomic, so replicas never interleave
read-modify-write and watchers see changes in sequence order.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from editai_common.errors import ServiceError
from editai_common.redis_client import KeySpace
from services.progress.domain import (
    JobFinished,
    JobStatus,
    Outcome,
    ProgressRecord,
    ProgressUpdate,
    StaleFencingToken,
    UpdateResult,
)
from services.progress.ports import FanOutEvent, JobsCleared, StoreUnavailable

log = logging.getLogger("editai.progress.redis")

_FIELDS = ("j", "p", "f", "pct", "step", "eta", "st", "err", "tok", "seq", "c", "u")

# KEYS: job hash, project latest key. ARGV: job, project, profile, pct, step, eta, status,
# error, token, now_ms, allow_create, ttl_ms, channel.
_APPLY_UPDATE = """
local function terminal(s) return s == '3' or s == '4' or s == '5' end
local cur = redis.call('HMGET', KEYS[1], 'seq', 'tok', 'st', 'pct', 'err', 'step')
local outcome
if not cur[1] then
  if ARGV[11] ~= '1' then return {'miss'} end
  redis.call('HSET', KEYS[1], 'j', ARGV[1], 'p', ARGV[2], 'f', ARGV[3], 'pct', ARGV[4], 'step', ARGV[5],
    'eta', ARGV[6], 'st', ARGV[7], 'err', ARGV[8], 'tok', ARGV[9], 'seq', '1', 'c', ARGV[10], 'u', ARGV[10])
  if ARGV[2] ~= '' then redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[12]) end
  outcome = 'created'
else
  local tok, newtok = tonumber(cur[2]), tonumber(ARGV[9])
  local pct, newpct = tonumber(cur[4]), tonumber(ARGV[4])
  if newtok < tok then return {'stale', cur[2]} end
  if terminal(cur[3]) then
    if ARGV[7] == cur[3] and newtok == tok and ARGV[8] == cur[5] and ARGV[5] == cur[6] and newpct <= pct then
      outcome = 'unchanged'
    else
      return {'finished', cur[3]}
    end
  else
    local new_attempt = newtok > tok
    if (not new_attempt) and newpct < pct and not terminal(ARGV[7]) then
      outcome = 'unchanged'
    else
      local stored = ARGV[4]
      if (not new_attempt) and newpct < pct then stored = cur[4] end
      redis.call('HSET', KEYS[1], 'pct', stored, 'step', ARGV[5], 'eta', ARGV[6], 'st', ARGV[7],
        'err', ARGV[8], 'tok', ARGV[9], 'u', ARGV[10])
      redis.call('HINCRBY', KEYS[1], 'seq', 1)
      outcome = 'updated'
    end
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[12])
local flat = redis.call('HGETALL', KEYS[1])
local record = {}
for i = 1, #flat, 2 do record[flat[i]] = flat[i + 1] end
local payload = cjson.encode(record)
if outcome ~= 'unchanged' then redis.call('PUBLISH', ARGV[13], payload) end
return {outcome, payload}
"""

# The same rules for a batch in ONE script call, and ONE fan-out message (a JSON array of
# the changed records) instead of one per update: the subscriber's per-message cost is
# most of what a replica spends on the fan-out.
# KEYS: job hash and project latest key of each update. ARGV: allow_create, ttl_ms,
# channel, now_ms, then per update: job, project, profile, pct, step, eta, status, error, token.
_APPLY_BATCH = """
local function terminal(s) return s == '3' or s == '4' or s == '5' end
local allow, ttl, channel, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local function apply(jk, lk, b)
  local job, project, profile = ARGV[b + 1], ARGV[b + 2], ARGV[b + 3]
  local pct_s, step, eta, st, err, tok_s = ARGV[b + 4], ARGV[b + 5], ARGV[b + 6], ARGV[b + 7], ARGV[b + 8], ARGV[b + 9]
  local cur = redis.call('HMGET', jk, 'seq', 'tok', 'st', 'pct', 'err', 'step')
  local outcome
  if not cur[1] then
    if allow ~= '1' then return {'miss'} end
    redis.call('HSET', jk, 'j', job, 'p', project, 'f', profile, 'pct', pct_s, 'step', step,
      'eta', eta, 'st', st, 'err', err, 'tok', tok_s, 'seq', '1', 'c', now, 'u', now)
    if project ~= '' then redis.call('SET', lk, job, 'PX', ttl) end
    outcome = 'created'
  else
    local tok, newtok = tonumber(cur[2]), tonumber(tok_s)
    local pct, newpct = tonumber(cur[4]), tonumber(pct_s)
    if newtok < tok then return {'stale', cur[2]} end
    if terminal(cur[3]) then
      if st == cur[3] and newtok == tok and err == cur[5] and step == cur[6] and newpct <= pct then
        outcome = 'unchanged'
      else
        return {'finished', cur[3]}
      end
    else
      local new_attempt = newtok > tok
      if (not new_attempt) and newpct < pct and not terminal(st) then
        outcome = 'unchanged'
      else
        local stored = pct_s
        if (not new_attempt) and newpct < pct then stored = cur[4] end
        redis.call('HSET', jk, 'pct', stored, 'step', step, 'eta', eta, 'st', st, 'err', err, 'tok', tok_s, 'u', now)
        redis.call('HINCRBY', jk, 'seq', 1)
        outcome = 'updated'
      end
    end
  end
  redis.call('PEXPIRE', jk, ttl)
  local flat = redis.call('HGETALL', jk)
  local record = {}
  for i = 1, #flat, 2 do record[flat[i]] = flat[i + 1] end
  return {outcome, cjson.encode(record)}
end
local replies, changed = {}, {}
for i = 1, #KEYS / 2 do
  local reply = apply(KEYS[2 * i - 1], KEYS[2 * i], 4 + 9 * (i - 1))
  replies[i] = reply
  if reply[1] == 'created' or reply[1] == 'updated' then changed[#changed + 1] = reply[2] end
end
if #changed > 0 then redis.call('PUBLISH', channel, '[' .. table.concat(changed, ',') .. ']') end
return replies
"""

# KEYS: job hash, project latest key. ARGV: ttl_ms, as_latest, then field/value pairs.
_SEED = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 3))
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
if ARGV[2] == '1' then
  local project = redis.call('HGET', KEYS[1], 'p')
  if project and project ~= '' then
    redis.call('SET', KEYS[2], redis.call('HGET', KEYS[1], 'j'), 'NX', 'PX', ARGV[1])
  end
end
return 1
"""

# KEYS: latest key, then job hashes. ARGV: channel, payload, then job ids.
_FORGET = """
local latest = redis.call('GET', KEYS[1])
for i = 2, #KEYS do redis.call('DEL', KEYS[i]) end
for i = 3, #ARGV do if latest == ARGV[i] then redis.call('DEL', KEYS[1]) end end
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1
"""


def _record_from_fields(fields: dict[str, str]) -> ProgressRecord:
    eta = fields.get("eta", "")
    return ProgressRecord(
        job_id=fields["j"],
        project_id=fields.get("p", ""),
        profile_id=fields.get("f", ""),
        percentage=float(fields["pct"]),
        current_step=fields.get("step", ""),
        estimated_remaining_seconds=float(eta) if eta != "" else None,
        status=JobStatus(int(fields["st"])),
        error=fields.get("err", ""),
        fencing_token=int(fields["tok"]),
        sequence=int(fields["seq"]),
        created_at_ms=int(fields["c"]),
        updated_at_ms=int(fields["u"]),
    )


def _fields_from_record(record: ProgressRecord) -> list[str]:
    eta = "" if record.estimated_remaining_seconds is None else repr(record.estimated_remaining_seconds)
    values = (
        record.job_id,
        record.project_id,
        record.profile_id,
        repr(record.percentage),
        record.current_step,
        eta,
        str(int(record.status)),
        record.error,
        str(record.fencing_token),
        str(record.sequence),
        str(record.created_at_ms),
        str(record.updated_at_ms),
    )
    return [item for pair in zip(_FIELDS, values, strict=True) for item in pair]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisHotStore:
    """HotStore on Redis. `client` answers calls; `listener` (no read timeout) carries pub/sub."""

    def __init__(
        self,
        client: aioredis.Redis,
        listener: aioredis.Redis,
        keys: KeySpace,
        *,
        ttl_seconds: int,
    ) -> None:
        self._client = client
        self._listener = listener
        self._keys = keys
        self._ttl_ms = str(ttl_seconds * 1000)
        self._channel = keys.key("events")
        self._apply = client.register_script(_APPLY_UPDATE)
        self._apply_batch = client.register_script(_APPLY_BATCH)
        self._seed = client.register_script(_SEED)
        self._forget = client.register_script(_FORGET)

    def _job_key(self, job_id: str) -> str:
        return self._keys.key("job", job_id)

    def _latest_key(self, project_id: str) -> str:
        return self._keys.key("project", project_id, "latest")

    def _apply_args(self, update: ProgressUpdate, now_ms: int, allow_create: bool) -> tuple[list[str], tuple[str, ...]]:
        args = (
            *_update_fields(update),
            str(now_ms),
            "1" if allow_create else "0",
            self._ttl_ms,
            self._channel,
        )
        return [self._job_key(update.job_id), self._latest_key(update.project_id)], args

    async def apply(self, update: ProgressUpdate, now_ms: int, *, allow_create: bool) -> UpdateResult | None:
        keys, args = self._apply_args(update, now_ms, allow_create)
        try:
            reply = await self._apply(keys=keys, args=args)
        except RedisError as error:
            raise _unavailable(error) from None
        return _apply_verdict(update, reply)

    async def apply_many(
        self, updates: Sequence[ProgressUpdate], now_ms: int, *, allow_create: bool
    ) -> list[UpdateResult | ServiceError | None]:
        """The rules of `apply` for every update, in order, in ONE script call (one round trip).

        Each update is judged on its own: a refused item (stale token, finished job) is
        that item's result and does not stop the others.
        """
        if not updates:
            return []
        keys: list[str] = []
        args: list[str] = ["1" if allow_create else "0", self._ttl_ms, self._channel, str(now_ms)]
        for update in updates:
            keys += (self._job_key(update.job_id), self._latest_key(update.project_id))
            args += _update_fields(update)
        try:
            replies = await self._apply_batch(keys=keys, args=args)
        except RedisError as error:
            raise _unavailable(error) from None
        results: list[UpdateResult | ServiceError | None] = []
        for update, reply in zip(updates, replies, strict=True):
            try:
                results.append(_apply_verdict(update, reply))
            except ServiceError as refused:
                results.append(refused)
        return results

    async def seed(self, record: ProgressRecord, *, as_latest: bool) -> None:
        args = [self._ttl_ms, "1" if as_latest else "0", *_fields_from_record(record)]
        try:
            await self._seed(keys=[self._job_key(record.job_id), self._latest_key(record.project_id)], args=args)
        except RedisError as error:
            raise _unavailable(error) from None

    async def get(self, job_id: str) -> ProgressRecord | None:
        try:
            raw = await self._client.hgetall(self._job_key(job_id))
        except RedisError as error:
            raise _unavailable(error) from None
        if not raw:
            return None
        return _record_from_fields({_text(k): _text(v) for k, v in raw.items()})

    async def latest_job_id(self, project_id: str) -> str | None:
        try:
            raw = await self._client.get(self._latest_key(project_id))
        except RedisError as error:
            raise _unavailable(error) from None
        return None if raw is None else _text(raw)

    async def forget(self, job_ids: Iterable[str], project_id: str) -> None:
        ids = list(job_ids)
        payload = json.dumps({"cleared": ids})
        keys = [self._latest_key(project_id), *(self._job_key(j) for j in ids)]
        try:
            await self._forget(keys=keys, args=[self._channel, payload, *ids])
        except RedisError as error:
            raise _unavailable(error) from None

    async def listen(self, on_event: Callable[[FanOutEvent], None], on_resync: Callable[[], None]) -> None:
        """Subscribe and deliver until cancelled; reconnects with backoff when Redis goes away."""
        delay = 0.1
        first = True
        while True:
            pubsub = self._listener.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                if not first:
                    on_resync()  # changes published while we were away are lost: re-read
                first, delay = False, 0.1
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None and message["type"] == "message":
                        _deliver(message["data"], on_event)
            except (RedisError, OSError) as error:
                log.warning("progress fan-out lost its Redis connection; reconnecting", extra={"error": str(error)})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
            finally:
                await pubsub.aclose()


def _apply_verdict(update: ProgressUpdate, reply: list[Any]) -> UpdateResult | None:
    """The update script's answer as a result; None for a miss; rule violations raise."""
    verdict = _text(reply[0])
    if verdict == "miss":
        return None
    if verdict == "stale":
        raise StaleFencingToken(update.job_id, update.fencing_token, int(_text(reply[1])))
    if verdict == "finished":
        raise JobFinished(update.job_id, JobStatus(int(_text(reply[1]))))
    record = _record_from_fields(json.loads(reply[1]))
    return UpdateResult(record, Outcome(verdict))


def _deliver(data: bytes, on_event: Callable[[FanOutEvent], None]) -> None:
    fields = json.loads(data)
    if isinstance(fields, list):  # a batch's changes, in order
        for record in fields:
            on_event(_record_from_fields(record))
    elif "cleared" in fields:
        on_event(JobsCleared(tuple(fields["cleared"])))
    else:
        on_event(_record_from_fields(fields))


def _unavailable(error: RedisError) -> StoreUnavailable:
    log.warning("redis call failed", extra={"error": str(error)})
    return StoreUnavailable(
        "The progress hot store (Redis) is unreachable; retry shortly.", reason="HOT_STORE_UNAVAILABLE"
    )


def _update_fields(update: ProgressUpdate) -> tuple[str, ...]:
    """An update as the Lua scripts read it, in their argument order."""
    eta = "" if update.estimated_remaining_seconds is None else repr(update.estimated_remaining_seconds)
    return (
        update.job_id,
        update.project_id,
        update.profile_id,
        repr(update.percentage),
        update.current_step,
        eta,
        str(int(update.status)),
        update.error,
        str(update.fencing_token),
    )
