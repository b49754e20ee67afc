"""BatchUpdateProgress: many updates in one call, each with UpdateProgress's rules and promise."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import grpc
import pytest
from google.rpc import code_pb2, error_details_pb2, status_pb2
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from editai.progress.v1 import progress_pb2, progress_pb2_grpc
from tests.conftest import StartService
from tests.progress_support.client import DEADLINE, FAILED, RUNNING, SUCCEEDED, Watch, get_job, report, stub
from tests.progress_support.database import stored_row
from tests.progress_support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.e2e

ChannelFactory = Callable[[str], grpc.aio.Channel]
FLUSH_INTERVAL_MS = 100


def item(
    job_id: str, percentage: float, *, status: int = RUNNING, fencing_token: int = 1, project_id: str = ""
) -> progress_pb2.UpdateProgressRequest:
    return progress_pb2.UpdateProgressRequest(
        job_id=job_id,
        project_id=project_id,
        profile_id="profile-1",
        percentage=percentage,
        current_step="encoding",
        status=status,  # type: ignore[arg-type]
        fencing_token=fencing_token,
    )


async def batch(
    service: progress_pb2_grpc.ProgressServiceStub, updates: list[progress_pb2.UpdateProgressRequest]
) -> list[progress_pb2.BatchUpdateResult]:
    reply = await service.BatchUpdateProgress(
        progress_pb2.BatchUpdateProgressRequest(updates=updates), timeout=DEADLINE
    )
    assert len(reply.results) == len(updates)
    return list(reply.results)


def as_rpc_status(result: progress_pb2.BatchUpdateResult) -> status_pb2.Status:
    """ItemStatus is google.rpc.Status on the wire: a client reads it as one."""
    assert result.WhichOneof("outcome") == "error", result
    return status_pb2.Status.FromString(result.error.SerializeToString())


def reason_of(status: status_pb2.Status) -> str:
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info.reason
    raise AssertionError(f"no ErrorInfo in {status}")


def violated_fields(status: status_pb2.Status) -> list[str]:
    for detail in status.details:
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad):
            return [v.field for v in bad.field_violations]
    raise AssertionError(f"no BadRequest in {status}")


@pytest.fixture
def ids() -> Callable[[str], str]:
    run = uuid.uuid4().hex[:8]
    return lambda name: f"batch-{run}-{name}"


async def test_each_item_keeps_the_update_rules(
    start_service: StartService, grpc_channel_factory: ChannelFactory, ids: Callable[[str], str]
) -> None:
    """Monotonic percentage, fencing and finished jobs hold per item, in the batch's order."""
    service = stub(grpc_channel_factory(start_service("progress").address))
    known, fenced, done = ids("known"), ids("fenced"), ids("done")
    await report(service, known, 50.0)
    results = await batch(
        service,
        [
            item(known, 40.0),  # a straggler: ignored, the stored value comes back
            item(known, 60.0),
            item(fenced, 10.0, fencing_token=2),  # new job
            item(fenced, 90.0, fencing_token=1),  # an older attempt: refused
            item(done, 100.0, status=SUCCEEDED),
            item(done, 20.0),  # after the end: refused
        ],
    )
    assert results[0].progress.percentage == 50
    assert results[1].progress.percentage == 60
    assert results[2].progress.percentage == 10 and results[2].progress.sequence == 1
    stale = as_rpc_status(results[3])
    assert stale.code == code_pb2.ABORTED and reason_of(stale) == "STALE_FENCING_TOKEN"
    assert results[4].progress.status == SUCCEEDED
    finished = as_rpc_status(results[5])
    assert finished.code == code_pb2.FAILED_PRECONDITION and reason_of(finished) == "JOB_FINISHED"
    assert (await get_job(service, known)).percentage == 60
    assert (await get_job(service, fenced)).percentage == 10
    assert (await get_job(service, done)).status == SUCCEEDED


async def test_a_bad_item_fails_only_itself_naming_its_index(
    start_service: StartService, grpc_channel_factory: ChannelFactory, ids: Callable[[str], str]
) -> None:
    service = stub(grpc_channel_factory(start_service("progress").address))
    good, bad = ids("good"), ids("bad")
    results = await batch(service, [item(good, 5.0), item(bad, 150.0), item("", 5.0, status=0), item(good, 7.0)])
    assert results[0].progress.percentage == 5
    assert results[3].progress.percentage == 7
    out_of_range = as_rpc_status(results[1])
    assert out_of_range.code == code_pb2.INVALID_ARGUMENT
    assert violated_fields(out_of_range) == ["updates[1].percentage"]
    assert violated_fields(as_rpc_status(results[2])) == ["updates[2].job_id", "updates[2].status"]
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await get_job(service, bad)
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("count", [0, 1001])
async def test_batch_size_is_bounded(
    start_service: StartService, grpc_channel_factory: ChannelFactory, ids: Callable[[str], str], count: int
) -> None:
    service = stub(grpc_channel_factory(start_service("progress").address))
    updates = [item(ids(f"job-{i}"), 1.0) for i in range(count)]
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await service.BatchUpdateProgress(progress_pb2.BatchUpdateProgressRequest(updates=updates), timeout=DEADLINE)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "updates" in (refused.value.details() or "")


async def test_terminal_items_are_durable_before_the_reply_and_survive_sigkill(
    start_service: StartService, grpc_channel_factory: ChannelFactory, ids: Callable[[str], str], database_url: str
) -> None:
    """DESIGN §5.4 for batches: the reply is sent only once every terminal item is in Postgres."""
    # The longest flush interval allowed: only the terminal path can make rows appear this fast.
    process = start_service("progress", EDITAI_PROGRESS_FLUSH_INTERVAL_MS="250")
    service = stub(grpc_channel_factory(process.address))
    finished = [ids(f"finished-{i}") for i in range(200)]
    updates = [item(job, 100.0, status=SUCCEEDED) for job in finished[:100]]
    updates += [item(job, 42.0, status=FAILED) for job in finished[100:]]
    results = await batch(service, updates)
    assert all(r.WhichOneof("outcome") == "progress" for r in results)
    process.kill()
    rows = [stored_row(database_url, job) for job in finished]
    assert all(row is not None for row in rows)
    assert [row["status"] for row in rows if row] == [SUCCEEDED] * 100 + [FAILED] * 100


async def test_running_items_reach_postgres_within_one_flush_interval(
    start_service: StartService, grpc_channel_factory: ChannelFactory, ids: Callable[[str], str], database_url: str
) -> None:
    """The write-behind promise for batches: one flush interval after the reply, a SIGKILL loses nothing."""
    process = start_service("progress", EDITAI_PROGRESS_FLUSH_INTERVAL_MS=str(FLUSH_INTERVAL_MS))
    service = stub(grpc_channel_factory(process.address))
    jobs = [ids(f"running-{i}") for i in range(300)]
    await batch(service, [item(job, 10.0) for job in jobs])
    await batch(service, [item(job, 33.0) for job in jobs])
    # One interval, plus the time one flush takes to run: the promise is ≤ 250 ms.
    await asyncio.sleep(0.25)
    process.kill()
    assert {(stored_row(database_url, job) or {}).get("percentage") for job in jobs} == {33}


async def test_a_batch_reaches_watchers_and_reads_on_another_replica(
    start_service: StartService, grpc_channel_factory: ChannelFactory, ids: Callable[[str], str]
) -> None:
    """A batch's changes are fanned out as one message; every item still reaches replica B."""
    on_a = stub(grpc_channel_factory(start_service("progress").address))
    on_b = stub(grpc_channel_factory(start_service("progress").address))
    watched, other = ids("watched"), ids("other")
    await report(on_a, watched, 1.0)
    watch = Watch(on_b, progress_pb2.WatchProgressRequest(job_id=watched))
    try:
        await watch.wait_for(1.0)
        await batch(on_a, [item(other, 5.0), item(watched, 20.0), item(watched, 100.0, status=SUCCEEDED)])
        assert (await watch.wait_for(100.0)).status == SUCCEEDED
        await watch.ended()
        # Watchers are "latest wins": 20 % may be conflated into 100 %, never reordered.
        seen = [p.percentage for p in watch.received]
        assert seen in ([1.0, 20.0, 100.0], [1.0, 100.0])
    finally:
        watch.cancel()
    assert (await get_job(on_b, other)).percentage == 5


async def test_during_a_database_outage_only_the_terminal_items_are_refused(
    start_service: StartService, grpc_channel_factory: ChannelFactory, ids: Callable[[str], str], database_url: str
) -> None:
    """A terminal item not yet durable answers UNAVAILABLE/PROGRESS_NOT_DURABLE; the rest of the batch is
    acknowledged from the hot path, and a retry of the terminal item after the outage is durable."""
    parts = conninfo_to_dict(database_url)
    with TcpProxy(str(parts.get("host") or "127.0.0.1"), int(parts.get("port") or 5432)) as proxy:
        process = start_service(
            "progress",
            EDITAI_DATABASE_URL=make_conninfo(database_url, host="127.0.0.1", port=str(proxy.port)),
            EDITAI_PROGRESS_DB_TIMEOUT_MS="300",
        )
        service = stub(grpc_channel_factory(process.address))
        running, ending = ids("running"), ids("ending")
        await batch(service, [item(running, 10.0), item(ending, 50.0)])
        proxy.cut()
        results = await batch(service, [item(running, 40.0), item(ending, 100.0, status=SUCCEEDED)])
        assert results[0].progress.percentage == 40
        refused = as_rpc_status(results[1])
        assert refused.code == code_pb2.UNAVAILABLE and reason_of(refused) == "PROGRESS_NOT_DURABLE"
        proxy.restore()
        retried = await batch(service, [item(ending, 100.0, status=SUCCEEDED)])
        assert retried[0].progress.status == SUCCEEDED
        assert (stored_row(database_url, ending) or {}).get("status") == SUCCEEDED
