"""Looking at the progress table directly, as an operator would."""

from __future__ import annotations

from typing import Any

import psycopg


def stored_row(database_url: str, job_id: str) -> dict[str, Any] | None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        cur = conn.execute(
            "SELECT job_id, percentage, status, sequence, error FROM progress.jobs WHERE job_id = %s", (job_id,)
        )
        row = cur.fetchone()
    if row is None:
        return None
    return dict(zip(("job_id", "percentage", "status", "sequence", "error"), row, strict=True))


def wipe_redis(redis_url: str, prefix: str) -> int:
    """Redis restarted without persistence: every key of this test run is gone."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        return int(client.delete(*keys)) if keys else 0
    finally:
        client.close()
