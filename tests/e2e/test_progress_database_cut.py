"""A Postgres outage (a TCP proxy between service and Postgres, cut and restored)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from editai_common.errors import details_from_rpc_error
from services.progress.server import SERVICE_NAME
from tests.conftest import StartService
from tests.progress_support.client import SUCCEEDED, get_job, report, serving_status, stub
from tests.progress_support.database import stored_row
from tests.progress_support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.e2e

ChannelFactory = Callable[[str], grpc.aio.Channel]


@pytest.fixture
def database_proxy(database_url: str) -> Iterator[TcpProxy]:
    parts = conninfo_to_dict(database_url)
    with TcpProxy(str(parts.get("host") or "127.0.0.1"), int(parts.get("port") or 5432)) as proxy:
        yield proxy


def through(proxy: TcpProxy, database_url: str) -> str:
    return make_conninfo(database_url, host="127.0.0.1", port=str(proxy.port))


async def eventually(check: Callable[[], object], within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.1)


async def test_outage_keeps_reads_and_progress_flowing_and_catches_up_after(
    start_service: StartService,
    grpc_channel_factory: ChannelFactory,
    database_url: str,
    database_proxy: TcpProxy,
) -> None:
    process = start_service(
        "progress",
        EDITAI_DATABASE_URL=through(database_proxy, database_url),
        EDITAI_PROGRESS_PROBE_INTERVAL_MS="200",
        EDITAI_PROGRESS_DB_TIMEOUT_MS="300",
    )
    channel = grpc_channel_factory(process.address)
    service = stub(channel)
    await report(service, "steady", 10)
    await report(service, "finished-before", 100, status=SUCCEEDED)
    await report(service, "ends-during", 50)

    database_proxy.cut()
    assert (await get_job(service, "steady")).percentage == 10  # reads answer from the hot path
    assert (await report(service, "steady", 40)).percentage == 40  # non-terminal progress is accepted
    await report(service, "new-during", 5)  # and so are jobs that start during the outage
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await report(service, "ends-during", 100, status=SUCCEEDED)
    details = details_from_rpc_error(refused.value)
    assert (details.code, details.reason) == (grpc.StatusCode.UNAVAILABLE, "PROGRESS_NOT_DURABLE")
    await eventually(lambda: _is(channel, False))
    assert await serving_status(channel, "") == health_pb2.HealthCheckResponse.SERVING  # alive all along
    assert process.is_running()

    database_proxy.restore()
    await eventually(lambda: _is(channel, True))
    await eventually(lambda: (stored_row(database_url, "steady") or {}).get("percentage") == 40)
    await eventually(lambda: (stored_row(database_url, "new-during") or {}).get("percentage") == 5)
    # The terminal update the client retries is now durable; the earlier one was never lost.
    await report(service, "ends-during", 100, status=SUCCEEDED)
    for job in ("ends-during", "finished-before"):
        row = stored_row(database_url, job)
        assert row is not None and row["status"] == SUCCEEDED


async def _is(channel: grpc.aio.Channel, serving: bool) -> bool:
    want = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
    return await serving_status(channel, SERVICE_NAME) == want
