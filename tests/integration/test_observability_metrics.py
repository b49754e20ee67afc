"""Prometheus metrics of a real gRPC service process: per-method counts with the final code."""

from __future__ import annotations

import grpc
import httpx
from prometheus_client.parser import text_string_to_metric_families

from editai.progress.v1 import progress_pb2, progress_pb2_grpc
from tests.conftest import StartService


async def scrape(port: int) -> str:
    async with httpx.AsyncClient() as client:
        reply = await client.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    reply.raise_for_status()
    return reply.text


async def test_metrics_port_counts_a_call_by_method_and_code(start_service: StartService) -> None:
    progress = start_service("progress")
    assert progress.metrics_port, "the serving line announces the metrics port"

    async with grpc.aio.insecure_channel(progress.address) as channel:
        stub = progress_pb2_grpc.ProgressServiceStub(channel)
        try:
            await stub.GetProgress(progress_pb2.GetProgressRequest(), timeout=5)
            code = grpc.StatusCode.OK
        except grpc.aio.AioRpcError as error:
            code = error.code()

    text = await scrape(progress.metrics_port)
    counted = {
        (sample.labels["service"], sample.labels["method"], sample.labels["code"]): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "editai_grpc_requests_total"
    }
    key = ("progress", "editai.progress.v1.ProgressService/GetProgress", code.name)
    assert counted.get(key) == 1.0, f"no labelled series for the call answered {code.name}: {counted}"
    assert "editai_grpc_request_seconds_bucket" in text


async def test_metrics_port_can_be_switched_off(start_service: StartService) -> None:
    progress = start_service("progress", EDITAI_PROGRESS_METRICS_PORT="off")
    assert progress.metrics_port == 0
    assert "metrics_port" not in progress.serving_event
