"""deploy/compose.yaml and deploy/Dockerfile: they parse, and what they run exists in the code.

No Docker engine runs here; these checks catch what would only show at `docker compose up`:
a module that does not exist, a health check on the wrong port, an address nobody serves.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from editai_common.settings import DEFAULT_PORTS

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, arguments = line.partition(" ")
            found.append((instruction.upper(), arguments.strip()))
    return found


def module_exists(module: str) -> bool:
    path = ROOT / Path(*module.split("."))
    return (path / "__main__.py").exists() or path.with_suffix(".py").exists()


# --- compose -------------------------------------------------------------------------------------


def test_compose_brings_up_postgres_redis_and_every_service(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    assert set(services) >= {"postgres", "redis", *DEFAULT_PORTS}
    assert services["render-worker"]["deploy"]["replicas"] >= 2


def test_compose_render_workers_run_the_worker_module(compose: dict[str, Any]) -> None:
    worker = compose["services"]["render-worker"]
    command = worker["command"]
    assert command[:3] == ["python", "-m", "services.render.worker"] and module_exists(command[2])
    port = int(command[command.index("--port") + 1])
    assert worker["healthcheck"]["test"][-1] == f"127.0.0.1:{port}"
    # The API process runs no jobs; every other EDITAI_* setting is shared with it.
    api = compose["services"]["render"]["environment"]
    assert api["EDITAI_RENDER_WORKERS"] == "0" and worker["environment"]["EDITAI_RENDER_WORKERS"] != "0"
    assert {k: v for k, v in api.items() if k != "EDITAI_RENDER_WORKERS"} == {
        k: v for k, v in worker["environment"].items() if k != "EDITAI_RENDER_WORKERS"
    }


@pytest.mark.parametrize("service", sorted(DEFAULT_PORTS))
def test_compose_commands_and_health_checks_use_the_service_port(compose: dict[str, Any], service: str) -> None:
    spec = compose["services"][service]
    command = spec["command"]
    assert command[:2] == ["python", "-m"] and module_exists(command[2]), command
    assert command[2] == f"services.{service}"
    port = int(command[command.index("--port") + 1])
    assert port == DEFAULT_PORTS[service]
    check = spec["healthcheck"]["test"]
    assert check[:3] == ["CMD", "python", "/app/deploy/healthcheck.py"]
    assert check[3] == ("http" if service == "gateway" else "grpc")
    assert check[4].endswith(f":{port}") or f":{port}/" in check[4], check
    assert spec["user"] == "10001:10001" and spec["read_only"] is True and spec["cap_drop"] == ["ALL"]


def test_compose_addresses_point_at_services_that_serve_them(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for spec in services.values():
        for name, value in (spec.get("environment") or {}).items():
            if name.endswith("_ADDR"):
                host, _, port = str(value).rpartition(":")
                target = name.removeprefix("EDITAI_").removesuffix("_ADDR").lower()
                assert host == target and int(port) == DEFAULT_PORTS[target], (name, value)
        for dependency in spec.get("depends_on") or {}:
            assert dependency in services
            assert "healthcheck" in services[dependency], f"{dependency} is waited on but has no health check"


def test_compose_environment_is_documented(compose: dict[str, Any]) -> None:
    documented = (ROOT / "docs" / "configuration.md").read_text()
    for spec in compose["services"].values():
        for name in spec.get("environment") or {}:
            if name.startswith("EDITAI_"):
                assert f"`{name}`" in documented, name


# --- Dockerfile ----------------------------------------------------------------------------------


def test_dockerfile_is_multi_stage_slim_and_non_root() -> None:
    instructions = dockerfile_instructions()
    stages = [args for instruction, args in instructions if instruction == "FROM"]
    assert len(stages) >= 2
    base = next(args for instruction, args in instructions if instruction == "ARG" and args.startswith("PYTHON_IMAGE"))
    assert base.split("=", 1)[1] == "python:3.11-slim"
    users = [args for instruction, args in instructions if instruction == "USER"]
    assert users and users[-1].split(":")[0] not in {"0", "root"}
    env = " ".join(args for instruction, args in instructions if instruction == "ENV")
    assert "PYTHONPATH=/app:/app/gen" in env


def test_dockerfile_generates_protos_and_installs_the_pinned_dependencies() -> None:
    runs = [args for instruction, args in dockerfile_instructions() if instruction == "RUN"]
    assert any(re.search(r"pip install \"?\.(\[[a-z,]+\])?\"?$", run) for run in runs), runs
    assert any("scripts.gen_protos" in run for run in runs)
    assert (ROOT / "scripts" / "gen_protos.py").exists()


def test_dockerfile_copies_sources_that_exist_and_runs_a_real_module() -> None:
    instructions = dockerfile_instructions()
    for instruction, args in instructions:
        if instruction == "COPY" and "--from" not in args:
            sources = args.split()[:-1]
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: no such path in the repository"
    cmd = json.loads(next(args for instruction, args in reversed(instructions) if instruction == "CMD"))
    assert cmd[:2] == ["python", "-m"] and module_exists(cmd[2]), cmd
