"""Postgres through psycopg 3: an async pool and versioned migrations.

Each service owns one schema (`progress`, `render`, `tts`) and keeps its
migrations as numbered SQL files (`0001_create_jobs.sql`, ...) in its own
`migrations/` folder. `migrate` applies the missing ones in order, each in its
own transaction, under an advisory lock so that replicas starting together do
not race.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from pathlib import Path

import psycopg
from psycopg_pool import AsyncConnectionPool

log = logging.getLogger("editai.postgres")


async def open_pool(url: str, *, min_size: int = 1, max_size: int = 10, name: str = "editai") -> AsyncConnectionPool:
    """An opened pool; connections that died with the server are replaced on checkout."""
    pool = AsyncConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        name=name,
        open=False,
        check=AsyncConnectionPool.check_connection,
        kwargs={"autocommit": True},
        reconnect_timeout=24 * 3600,
    )
    await pool.open(wait=False)
    return pool


def _migration_files(folder: Path) -> list[tuple[Path, str]]:
    return [(p, p.read_text()) for p in sorted(folder.glob("*.sql")) if p.name[:4].isdigit()]


def _lock_id(schema: str) -> int:
    return int.from_bytes(hashlib.sha256(f"editai-migrate:{schema}".encode()).digest()[:8], "big", signed=True)


async def migrate(url: str, schema: str, migrations_dir: Path) -> list[str]:
    """Apply the schema's pending migrations; returns the names applied now."""
    files = await asyncio.to_thread(_migration_files, migrations_dir)
    applied_now: list[str] = []
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute("SELECT pg_advisory_lock(%s)", (_lock_id(schema),))
        try:
            await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            await conn.execute(
                f'CREATE TABLE IF NOT EXISTS "{schema}".schema_migrations ('
                " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            cur = await conn.execute(f'SELECT version FROM "{schema}".schema_migrations')
            done = {row[0] for row in await cur.fetchall()}
            for path, sql in files:
                if path.stem in done:
                    continue
                async with conn.transaction():
                    await conn.execute(f'SET LOCAL search_path TO "{schema}", public')
                    await conn.execute(sql)  # type: ignore[arg-type]
                    await conn.execute(f'INSERT INTO "{schema}".schema_migrations (version) VALUES (%s)', (path.stem,))
                applied_now.append(path.stem)
                log.info("migration applied", extra={"schema": schema, "version": path.stem})
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (_lock_id(schema),))
    return applied_now
