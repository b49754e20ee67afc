"""A Postgres outage does not take the progress service down (issue 2).

The service reaches Postgres through a TCP proxy that the test cuts and restores.
While cut: reads keep answering from the hot path, non-terminal updates are
accepted and kept, a terminal update is refused with UNAVAILABLE (never
acknowledged before it is durable), and the service's own health name reports
NOT_SERVING while the liveness name "" stays SERVING. After the restore: the kept
values reach the table, and the terminal state is there too.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import grpc
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from editai_common.errors import details_from_rpc_error
from tests.conftest import StartService
from tests.progress_support.backends import eventually, health_is, health_status, stored_row
from tests.progress_support.client import FAILED, RUNNING, get_job, report, stub
from tests.progress_support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.e2e


@pytest.fixture
def proxy(database_url: str) -> Iterator[TcpProxy]:
    server = conninfo_to_dict(database_url)
    with TcpProxy(str(server.get("host") or "127.0.0.1"), int(server.get("port") or 5432)) as running:
        yield running


def new_id(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:12]}"


async def test_reads_and_progress_continue_through_a_database_cut_and_catch_up_after(
    start_service: StartService,
    grpc_channel_factory: Callable[[str], grpc.aio.Channel],
    database_url: str,
    proxy: TcpProxy,
) -> None:
    process = start_service(
        "progress",
        EDITAI_DATABASE_URL=make_conninfo(database_url, host="127.0.0.1", port=str(proxy.port)),
        EDITAI_PROGRESS_PROBE_INTERVAL_MS="200",
        EDITAI_PROGRESS_DB_TIMEOUT_MS="300",
    )
    channel = grpc_channel_factory(process.address)
    service = stub(channel)
    running, failing, started_during = new_id("job"), new_id("job"), new_id("job")
    await report(service, running, 10)
    await report(service, failing, 50)
    await eventually(lambda: stored_row(database_url, running))

    proxy.cut()

    assert (await get_job(service, running)).percentage == 10
    assert (await report(service, running, 40)).percentage == 40
    assert (await report(service, started_during, 5)).percentage == 5
    with pytest.raises(grpc.aio.AioRpcError) as not_durable:
        await report(service, failing, 50, status=FAILED, error="encoder crashed")
    refusal = details_from_rpc_error(not_durable.value)
    assert (refusal.code, refusal.reason) == (grpc.StatusCode.UNAVAILABLE, "PROGRESS_NOT_DURABLE")
    assert await eventually(lambda: health_is(channel, "NOT_SERVING"))
    assert await health_status(channel, "") == "SERVING"
    assert (await get_job(service, running)).percentage == 40
    assert process.is_running()

    proxy.restore()

    assert await eventually(lambda: health_is(channel, "SERVING"))
    assert await eventually(lambda: (stored_row(database_url, running) or {}).get("percentage") == 40)
    assert await eventually(lambda: (stored_row(database_url, started_during) or {}).get("status") == RUNNING)
    # The refused terminal update was kept and written behind; the client's retry is idempotent.
    assert await eventually(lambda: (stored_row(database_url, failing) or {}).get("status") == FAILED)
    retried = await report(service, failing, 50, status=FAILED, error="encoder crashed")
    assert (retried.status, retried.error) == (FAILED, "encoder crashed")
