"""What is left behind: active jobs in Postgres, render keys in Redis, scratch files on disk,
ffmpeg processes under a service process."""

from __future__ import annotations

from pathlib import Path

import psutil
import psycopg
import redis


def active_jobs(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM render.jobs WHERE status IN ('queued', 'running')").fetchone()
    return int(row[0]) if row else 0


def leases(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM render.jobs WHERE lease_expires_at IS NOT NULL").fetchone()
    return int(row[0]) if row else 0


def redis_state(redis_url: str, prefix: str) -> dict[str, object]:
    """Every render key (`<prefix>render:*`) with what it holds (the job stream's length and pending count).

    Other services' keys (progress's hot view, tts's cache) are theirs, bounded by their own TTLs.
    """
    client = redis.Redis.from_url(redis_url)
    try:
        found: dict[str, object] = {}
        for raw in client.scan_iter(match=f"{prefix}render:*", count=1000):
            key = raw.decode()
            kind = client.type(raw)
            kind = kind.decode() if isinstance(kind, bytes) else str(kind)
            if kind == "stream":
                pending = sum(g["pending"] for g in client.xinfo_groups(raw))
                found[key] = {"length": client.xlen(raw), "pending": pending}
            else:
                found[key] = kind
        return found
    finally:
        client.close()


def scratch_files(data_dir: Path) -> list[Path]:
    """Files in the render work dir and the media store's partial dir (both must end empty)."""
    roots = [data_dir / "render-work", data_dir / "media" / ".partial"]
    return [p for root in roots if root.exists() for p in root.rglob("*")]


def ffmpeg_children(pid: int) -> list[psutil.Process]:
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    alive = []
    for child in children:
        try:
            if "ffmpeg" in child.name() and child.status() != psutil.STATUS_ZOMBIE:
                alive.append(child)
        except psutil.NoSuchProcess:
            continue
    return alive
