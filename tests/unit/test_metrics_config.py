"""Where a gRPC service serves its metrics, and how tracing is configured."""

from __future__ import annotations

import pytest

from editai_common.metrics import metrics_port_from_env
from editai_common.settings import ConfigError
from editai_common.tracing import configure_tracing


def test_metrics_port_defaults_to_the_grpc_port_plus_1000() -> None:
    assert metrics_port_from_env("render", 50051, {}) == 51051


def test_an_ephemeral_grpc_port_gets_an_ephemeral_metrics_port() -> None:
    assert metrics_port_from_env("render", 0, {}) == 0


def test_metrics_port_can_be_set_or_switched_off() -> None:
    assert metrics_port_from_env("tts", 50052, {"EDITAI_TTS_METRICS_PORT": "9100"}) == 9100
    assert metrics_port_from_env("tts", 50052, {"EDITAI_TTS_METRICS_PORT": "off"}) is None


@pytest.mark.parametrize("value", ["nine", "70000", "-1"])
def test_a_bad_metrics_port_is_a_sentence_naming_the_variable(value: str) -> None:
    with pytest.raises(ConfigError, match="EDITAI_PROGRESS_METRICS_PORT"):
        metrics_port_from_env("progress", 50053, {"EDITAI_PROGRESS_METRICS_PORT": value})


def test_an_unknown_trace_exporter_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import editai_common.tracing as tracing

    monkeypatch.setattr(tracing, "_configured", None)
    with pytest.raises(ConfigError, match="EDITAI_OTEL_EXPORTER"):
        configure_tracing("render", {"EDITAI_OTEL_EXPORTER": "zipkin"})


def ffmpeg_count(operation: str, outcome: str) -> float:
    from prometheus_client import REGISTRY

    value = REGISTRY.get_sample_value("editai_ffmpeg_seconds_count", {"operation": operation, "outcome": outcome})
    return value or 0.0


async def test_ffmpeg_runs_are_timed_by_outcome() -> None:
    import asyncio

    from editai_common.errors import DeadlineExceeded
    from editai_common.metrics import observe_ffmpeg

    with observe_ffmpeg("unit_ok"):
        pass
    with pytest.raises(DeadlineExceeded), observe_ffmpeg("unit_timeout"):
        raise DeadlineExceeded("ffmpeg ran out of time")
    with pytest.raises(asyncio.CancelledError), observe_ffmpeg("unit_cancel"):
        raise asyncio.CancelledError
    assert ffmpeg_count("unit_ok", "ok") == 1
    assert ffmpeg_count("unit_timeout", "timeout") == 1
    assert ffmpeg_count("unit_cancel", "cancelled") == 1


def test_a_hyphenated_service_name_reads_an_underscored_variable() -> None:
    assert metrics_port_from_env("render-worker", 50051, {"EDITAI_RENDER_WORKER_METRICS_PORT": "9200"}) == 9200


def test_otlp_export_needs_its_package_or_says_which(monkeypatch: pytest.MonkeyPatch) -> None:
    import editai_common.tracing as tracing

    try:
        import opentelemetry.exporter.otlp.proto.grpc  # noqa: F401

        installed = True
    except ImportError:
        installed = False
    monkeypatch.setattr(tracing, "_configured", None)
    monkeypatch.setattr(tracing.trace, "set_tracer_provider", lambda provider: None)  # keep the process's own
    if not installed:
        with pytest.raises(ConfigError, match="opentelemetry-exporter-otlp-proto-grpc"):
            configure_tracing("render", {"EDITAI_OTEL_EXPORTER": "otlp"})
    else:
        provider = configure_tracing("render", {"EDITAI_OTEL_EXPORTER": "otlp"})
        provider.shutdown()
    monkeypatch.setattr(tracing, "_exporting", False)


def test_a_grpc_port_near_the_top_gets_an_ephemeral_metrics_port() -> None:
    assert metrics_port_from_env("render", 65000, {}) == 0
