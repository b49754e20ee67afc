"""The error interceptor against a real grpc.aio server: domain errors arrive as
rich statuses, bugs arrive as a bare INTERNAL without internals."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest

from editai.tts.v1 import tts_pb2, tts_pb2_grpc
from editai_common.errors import FieldViolation, ProjectLocked, details_from_rpc_error, invalid_fields
from editai_common.grpc_errors import ErrorMappingInterceptor


class FailingTts(tts_pb2_grpc.TtsServiceServicer):
    async def Synthesize(self, request: tts_pb2.SynthesizeRequest, context: grpc.aio.ServicerContext) -> None:
        if request.text == "locked":
            raise ProjectLocked("project-1", "job-7")
        if request.text == "bad":
            raise invalid_fields([FieldViolation("text", "must not be empty")])
        raise RuntimeError("database password is hunter2")


@pytest.fixture
async def tts_stub() -> AsyncIterator[tts_pb2_grpc.TtsServiceStub]:
    server = grpc.aio.server(interceptors=[ErrorMappingInterceptor("tts.editai")])
    tts_pb2_grpc.add_TtsServiceServicer_to_server(FailingTts(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield tts_pb2_grpc.TtsServiceStub(channel)
    await server.stop(None)


async def test_project_locked_arrives_with_reason_and_resources(tts_stub: tts_pb2_grpc.TtsServiceStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await tts_stub.Synthesize(tts_pb2.SynthesizeRequest(text="locked"), timeout=5)

    details = details_from_rpc_error(caught.value)
    assert details.code is grpc.StatusCode.ABORTED
    assert (details.reason, details.domain) == ("PROJECT_LOCKED", "tts.editai")
    assert details.metadata["job_id"] == "job-7"
    assert [r.resource_name for r in details.resources] == ["project-1", "job-7"]


async def test_field_violations_arrive_by_name(tts_stub: tts_pb2_grpc.TtsServiceStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await tts_stub.Synthesize(tts_pb2.SynthesizeRequest(text="bad"), timeout=5)

    details = details_from_rpc_error(caught.value)
    assert details.code is grpc.StatusCode.INVALID_ARGUMENT
    assert details.violations == (FieldViolation("text", "must not be empty"),)


async def test_a_bug_is_internal_without_internals(tts_stub: tts_pb2_grpc.TtsServiceStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await tts_stub.Synthesize(tts_pb2.SynthesizeRequest(text="boom"), timeout=5)

    assert caught.value.code() is grpc.StatusCode.INTERNAL
    assert "hunter2" not in (caught.value.details() or "")
    assert "Traceback" not in (caught.value.details() or "")
