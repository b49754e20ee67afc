"""One shared grpc.aio channel per backend service, opened in the app's lifespan."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from editai_common.grpc_client import open_channel
from services.gateway.config import Settings

HEALTH_DEADLINE_SECONDS = 1.0


@dataclass
class Backends:
    channels: dict[str, grpc.aio.Channel]

    @classmethod
    def open(cls, settings: Settings) -> Backends:
        addresses = {
            "render": settings.render_address,
            "tts": settings.tts_address,
            "progress": settings.progress_address,
        }
        return cls({name: open_channel(addr) for name, addr in addresses.items()})

    async def close(self) -> None:
        await asyncio.gather(*(channel.close(None) for channel in self.channels.values()))

    async def health(self) -> dict[str, str]:
        """Each backend's health status name; UNREACHABLE when it does not answer in time."""

        async def check(channel: grpc.aio.Channel) -> str:
            try:
                reply = await health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(), timeout=HEALTH_DEADLINE_SECONDS
                )
            except grpc.aio.AioRpcError:
                return "UNREACHABLE"
            return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)

        names = list(self.channels)
        results = await asyncio.gather(*(check(self.channels[n]) for n in names))
        return dict(zip(names, results, strict=True))
