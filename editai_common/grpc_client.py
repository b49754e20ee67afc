"""Outgoing gRPC channels: one shared channel per target, opened the same way everywhere.

Every service dials others through `open_channel`, so keepalive, message limits
and the metadata interceptors (request id, tracing) are set in one place.
"""

from __future__ import annotations

import grpc

from editai_common.grpc_server import MAX_MESSAGE_BYTES

CHANNEL_OPTIONS: list[tuple[str, int | str]] = [
    # A headless Service's DNS name resolves to every replica; spread calls over all of them.
    ("grpc.lb_policy_name", "round_robin"),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
]

_client_interceptors: list[grpc.aio.ClientInterceptor] = []


def register_client_interceptor(interceptor: grpc.aio.ClientInterceptor) -> None:
    """Adds an interceptor to every channel opened afterwards (request ids, tracing)."""
    _client_interceptors.append(interceptor)


def open_channel(address: str) -> grpc.aio.Channel:
    """A channel to `address` (host:port); close it in the owner's shutdown."""
    # Request context and traceparent ride on every channel, however early it is opened.
    from editai_common.observability import register_client_side

    register_client_side()
    return grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS, interceptors=list(_client_interceptors))
