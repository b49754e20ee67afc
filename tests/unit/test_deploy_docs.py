"""docs/grpcurl.md: an example for every RPC of the three protos, each one a valid request."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from google.protobuf import json_format, symbol_database

from editai.progress.v1 import progress_pb2
from editai.render.v1 import render_pb2
from editai.tts.v1 import tts_pb2
from editai_common.settings import DEFAULT_PORTS

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = re.compile(r"-d '(?P<body>[^']*)' \\\n\s+127\.0\.0\.1:(?P<port>\d+) (?P<service>[\w.]+)/(?P<method>\w+)")
MODULES = {"render": render_pb2, "tts": tts_pb2, "progress": progress_pb2}


def examples() -> dict[str, tuple[str, int]]:
    text = (ROOT / "docs" / "grpcurl.md").read_text()
    return {f"{m['service']}/{m['method']}": (m["body"], int(m["port"])) for m in EXAMPLE.finditer(text)}


def every_rpc() -> list[tuple[str, str, str]]:
    found = []
    for name, module in MODULES.items():
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                found.append((name, f"{service.full_name}/{method.name}", method.input_type.full_name))
    return found


@pytest.mark.parametrize(("service", "rpc", "request_type"), every_rpc(), ids=lambda v: str(v).rsplit("/", 1)[-1])
def test_every_rpc_has_a_grpcurl_example_that_parses(service: str, rpc: str, request_type: str) -> None:
    found = examples()
    assert rpc in found, f"docs/grpcurl.md has no example for {rpc}"
    body, port = found[rpc]
    assert port == DEFAULT_PORTS[service]
    message = symbol_database.Default().GetSymbol(request_type)()
    json_format.Parse(body, message)  # raises on a misspelt field or enum name
