"""Spans are exported when asked (EDITAI_OTEL_EXPORTER=console) and continue the caller's trace."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import grpc

from editai.progress.v1 import progress_pb2, progress_pb2_grpc
from tests.conftest import StartService

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN_ID = "00f067aa0ba902b7"


async def test_a_call_exports_a_server_span_in_the_callers_trace(start_service: StartService) -> None:
    progress = start_service("progress", EDITAI_OTEL_EXPORTER="console")
    async with grpc.aio.insecure_channel(progress.address) as channel:
        with contextlib.suppress(grpc.aio.AioRpcError):
            await progress_pb2_grpc.ProgressServiceStub(channel).GetProgress(
                progress_pb2.GetProgressRequest(job_id="job-traced"),
                metadata=[("traceparent", f"00-{TRACE_ID}-{PARENT_SPAN_ID}-01"), ("x-profile-id", "local")],
                timeout=5,
            )
    deadline = time.monotonic() + 5
    spans: list[dict[str, object]] = []
    while not spans and time.monotonic() < deadline:
        for raw in progress.logs().splitlines():
            with contextlib.suppress(ValueError):
                entry = json.loads(raw)
                if isinstance(entry, dict) and entry.get("name") == "editai.progress.v1.ProgressService/GetProgress":
                    spans.append(entry)
        await asyncio.sleep(0.05)
    assert spans, f"no span exported:\n{progress.logs()[-2000:]}"
    span = spans[0]
    assert span["context"]["trace_id"] == f"0x{TRACE_ID}"  # type: ignore[index]
    assert span["parent_id"] == f"0x{PARENT_SPAN_ID}"
    assert span["kind"] == "SpanKind.SERVER"
    assert span["attributes"]["rpc.method"] == "GetProgress"  # type: ignore[index]
