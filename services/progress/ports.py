"""The two stores the tracker talks to, as small protocols (adapters implement them).

- `HotStore`: shared by every replica (Redis). Applies updates atomically with the
  rules of `domain.apply_update`, answers reads, and fans accepted changes out to
  every replica (`listen`).
- `DurableStore`: the record of truth that survives everything (Postgres).

Both raise `StoreUnavailable` when their backend cannot be reached, never a driver
exception, so the tracker decides what an outage means for each call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from editai_common.errors import ServiceError, Unavailable
from services.progress.domain import ProgressRecord, ProgressUpdate, UpdateResult


class StoreUnavailable(Unavailable):
    """A backing store (Redis or Postgres) did not answer in time; retry later."""

    default_reason = "STORE_UNAVAILABLE"


@dataclass(frozen=True)
class JobsCleared:
    """Fan-out event: these jobs were cleared on some replica."""

    job_ids: tuple[str, ...]


FanOutEvent = ProgressRecord | JobsCleared


class HotStore(Protocol):
    async def apply(self, update: ProgressUpdate, now_ms: int, *, allow_create: bool) -> UpdateResult | None:
        """Apply atomically; None when the job is unknown here and `allow_create` is false."""

    async def apply_many(
        self, updates: Sequence[ProgressUpdate], now_ms: int, *, allow_create: bool
    ) -> list[UpdateResult | ServiceError | None]:
        """`apply` for each update in order, in one round trip; each item's refusal is its own result."""

    async def seed(self, record: ProgressRecord, *, as_latest: bool) -> None:
        """Put a record read from the durable store back, unless a value is there already."""

    async def get(self, job_id: str) -> ProgressRecord | None: ...

    async def latest_job_id(self, project_id: str) -> str | None: ...

    async def forget(self, job_ids: Iterable[str], project_id: str) -> None:
        """Remove the jobs (and the project's latest pointer if it names one) and tell the replicas."""

    async def listen(self, on_event: Callable[[FanOutEvent], None], on_resync: Callable[[], None]) -> None:
        """Deliver every replica's accepted changes until cancelled; `on_resync` after a reconnect."""


class DurableStore(Protocol):
    async def upsert_many(self, records: Iterable[ProgressRecord]) -> None:
        """One statement for all records; a row never goes back to a lower sequence."""

    async def get(self, job_id: str) -> ProgressRecord | None: ...

    async def get_many(self, job_ids: list[str]) -> dict[str, ProgressRecord]: ...

    async def latest_for_project(self, project_id: str) -> ProgressRecord | None: ...

    async def jobs_of_project(self, project_id: str) -> list[ProgressRecord]: ...

    async def delete(self, job_ids: Iterable[str]) -> int: ...

    async def ping(self) -> None: ...


ReadinessCallback = Callable[[bool], Awaitable[None]]
