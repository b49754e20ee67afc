"""Shared fixtures: real Postgres and Redis (the machine's, or embedded ones), a
database and Redis key prefix per run, and service processes on ephemeral ports."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import redis

from editai_common.embedded import Backends, resolve_backends
from tests.support.databases import create_database, drop_database
from tests.support.processes import ServiceProcess, service_env


@pytest.fixture(scope="session")
def backends(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backends]:
    data_dir = tmp_path_factory.mktemp("embedded")
    with resolve_backends(data_dir, os.environ) as found:
        yield found


@pytest.fixture(scope="session")
def database_url(backends: Backends) -> Iterator[str]:
    """One database for the whole run; services migrate it on start."""
    url = create_database(backends.database_url)
    yield url
    drop_database(url)


@pytest.fixture
def fresh_database_url(backends: Backends) -> Iterator[str]:
    """A database of its own for a test that needs an empty world."""
    url = create_database(backends.database_url)
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def redis_url(backends: Backends) -> str:
    return backends.redis_url


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of the test's own; its keys are removed afterwards."""
    prefix = f"editai-test-{uuid.uuid4().hex[:10]}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def base_env(database_url: str, redis_url: str, redis_prefix: str, data_dir: Path) -> dict[str, str]:
    """Environment for service processes of one test."""
    return service_env(
        {
            "EDITAI_DATABASE_URL": database_url,
            "EDITAI_REDIS_URL": redis_url,
            "EDITAI_REDIS_PREFIX": redis_prefix,
            "EDITAI_DATA_DIR": str(data_dir),
            "EDITAI_AUTH": "dev",
            "EDITAI_LOG_LEVEL": "INFO",
        }
    )


StartService = Callable[..., ServiceProcess]


@pytest.fixture
def start_service(base_env: dict[str, str], tmp_path: Path) -> Iterator[StartService]:
    """start_service("progress", EDITAI_X="y") -> a running ServiceProcess; all killed at the end."""
    started: list[ServiceProcess] = []
    log_dir = tmp_path / "logs"
    log_dir.mkdir(exist_ok=True)

    def start(name: str, *args: str, **env: str) -> ServiceProcess:
        process = ServiceProcess(f"services.{name}", {**base_env, **env}, log_dir, list(args))
        started.append(process)
        return process.start()

    yield start
    for process in started:
        process.kill()


@pytest.fixture
async def grpc_channel_factory() -> AsyncIterator[Callable[[str], object]]:
    """Opens grpc.aio channels to addresses and closes them after the test."""
    import grpc

    channels: list[grpc.aio.Channel] = []

    def open_channel(address: str) -> grpc.aio.Channel:
        channel = grpc.aio.insecure_channel(address)
        channels.append(channel)
        return channel

    yield open_channel
    for channel in channels:
        await channel.close(None)
