"""Readiness of the progress service: is Postgres reachable?

Liveness ("" in the health service) stays SERVING during an outage because reads
and non-terminal updates keep working; the service's own name goes NOT_SERVING so
a load balancer or operator sees that durability is degraded.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from services.progress.ports import ReadinessCallback, StoreUnavailable

log = logging.getLogger("editai.progress.readiness")


class DatabaseReadiness:
    def __init__(
        self, ping: Callable[[], Awaitable[None]], on_change: ReadinessCallback, probe_interval: float
    ) -> None:
        self._ping = ping
        self._on_change = on_change
        self._probe_interval = probe_interval
        self.reachable = True
        self._changes: asyncio.Queue[bool] = asyncio.Queue()

    def report(self, reachable: bool) -> None:
        """Called by anyone who just talked to the database (flushes, terminal writes, probes)."""
        if reachable != self.reachable:
            self.reachable = reachable
            log.warning("database reachable" if reachable else "database unreachable")
            self._changes.put_nowait(reachable)

    async def run(self) -> None:
        """Probe periodically (so an idle service notices too) and publish changes in order."""
        publisher = asyncio.create_task(self._publish_changes())
        try:
            while True:
                try:
                    await self._ping()
                    self.report(True)
                except StoreUnavailable:
                    self.report(False)
                await asyncio.sleep(self._probe_interval)
        finally:
            publisher.cancel()

    async def _publish_changes(self) -> None:
        while True:
            await self._on_change(await self._changes.get())
