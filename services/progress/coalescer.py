"""Client side of BatchUpdateProgress: what a process running many jobs sends.

A render process with many jobs reports far more often than anyone reads. The
coalescer keeps only the latest update of each job and sends them every `interval`
as one BatchUpdateProgress call (chunks of at most `max_batch`), so the cost per
job-update is a share of one RPC instead of one RPC.

What it promises its jobs: an update reaches the service within `interval` (plus
the call), and from there the service's promise holds (terminal items durable
before the reply, others within its flush interval). A job that must know its
terminal state is durable awaits `flush()` (or the next `run` tick) and reads the
result. When a call fails, its items are put back unless a newer value of the job
arrived meanwhile, and go out with the next flush.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

import grpc

from editai.progress.v1 import progress_pb2

log = logging.getLogger("editai.progress.coalescer")

SendBatch = Callable[[progress_pb2.BatchUpdateProgressRequest], Awaitable[progress_pb2.BatchUpdateProgressResponse]]
Outcome = tuple[progress_pb2.UpdateProgressRequest, progress_pb2.BatchUpdateResult]


class ProgressCoalescer:
    def __init__(self, send: SendBatch, *, interval: float = 0.05, max_batch: int = 1000) -> None:
        self._send = send
        self._interval = interval
        self._max_batch = max_batch
        self._latest: dict[str, progress_pb2.UpdateProgressRequest] = {}
        self._flush_lock = asyncio.Lock()

    def report(self, update: progress_pb2.UpdateProgressRequest) -> None:
        """Remember `update` as its job's newest value (replacing one not sent yet)."""
        self._latest.pop(update.job_id, None)  # keep first-reported order for fairness
        self._latest[update.job_id] = update

    @property
    def pending(self) -> int:
        return len(self._latest)

    async def flush(self) -> list[Outcome]:
        """Send everything pending now; the per-item results of every call that answered."""
        async with self._flush_lock:
            batch, self._latest = list(self._latest.values()), {}
            outcomes: list[Outcome] = []
            for start in range(0, len(batch), self._max_batch):
                chunk = batch[start : start + self._max_batch]
                try:
                    reply = await self._send(progress_pb2.BatchUpdateProgressRequest(updates=chunk))
                except grpc.RpcError:
                    self._put_back(batch[start:])
                    raise
                outcomes.extend(zip(chunk, reply.results, strict=True))
            return outcomes

    def _put_back(self, unsent: Sequence[progress_pb2.UpdateProgressRequest]) -> None:
        for update in unsent:
            self._latest.setdefault(update.job_id, update)

    async def run(self, on_outcomes: Callable[[list[Outcome]], None]) -> None:
        """Flush every `interval` until cancelled; a failed call is retried at the next tick."""
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            if self._latest:
                try:
                    on_outcomes(await self.flush())
                except grpc.RpcError as error:  # the items were put back; the next tick retries them
                    log.warning("progress batch failed; retrying", extra={"error": str(error)})
            await asyncio.sleep(max(0.0, self._interval - (loop.time() - started)))
