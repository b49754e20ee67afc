"""What every benchmark needs: Postgres and Redis (given, local or embedded, as the
tests find them), a database and Redis key prefix of its own, and percentiles."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

from editai_common.embedded import resolve_backends
from tests.support.databases import create_database, drop_database


@dataclass(frozen=True)
class BenchWorld:
    database_url: str
    redis_url: str
    redis_prefix: str


@contextmanager
def bench_world() -> Iterator[BenchWorld]:
    """A fresh database and key prefix, removed afterwards whatever happens."""
    with tempfile.TemporaryDirectory(prefix="editai-bench-backends-") as tmp, resolve_backends(
        Path(tmp), os.environ
    ) as backends:
        prefix = f"editai-bench-{uuid.uuid4().hex[:8]}:"
        database_url = create_database(backends.database_url, prefix="editai_bench")
        try:
            yield BenchWorld(database_url, backends.redis_url, prefix)
        finally:
            drop_database(database_url)
            client = redis.Redis.from_url(backends.redis_url)
            try:
                keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
                if keys:
                    client.delete(*keys)
            finally:
                client.close()


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of `values` (fraction 0–1)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]
