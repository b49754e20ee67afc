"""The Kubernetes manifests in deploy/k8s: valid for a pinned Kubernetes version, and
consistent with the code they run (ports, probes, commands, environment variables).

No cluster runs here, so the kustomization is rendered by a small reader of its
`resources:` (and by `kubectl kustomize` as well when kubectl is installed).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from editai_common.settings import DEFAULT_PORTS

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "deploy" / "k8s" / "base"
OVERLAYS = ROOT / "deploy" / "k8s" / "overlays"
KUBERNETES_VERSION = "1.31.0"  # the oldest minor version the manifests promise to work on
GRPC_SERVICES = sorted(name for name in DEFAULT_PORTS if name != "gateway")
CODE_ROOTS = ["editai_common", "services", "launcher", "scripts", "bench", "dev.py"]
ENV_NAME = re.compile(r"EDITAI_[A-Z0-9_]*[A-Z0-9]")


def render_kustomization(folder: Path) -> list[dict[str, Any]]:
    """The objects a kustomization lists (resources, nested kustomizations), with its namespace set."""
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    objects: list[dict[str, Any]] = []
    for entry in kustomization.get("resources", []):
        path = (folder / entry).resolve()
        if path.is_dir():
            objects.extend(render_kustomization(path))
        else:
            objects.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    namespace = kustomization.get("namespace")
    for obj in objects:
        if namespace and obj["kind"] == "Namespace":
            obj["metadata"]["name"] = namespace  # kustomize renames the Namespace object too
        elif namespace:
            obj.setdefault("metadata", {})["namespace"] = namespace
    return objects


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    return render_kustomization(BASE)


def by_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def container_of(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def config_data(objects: list[dict[str, Any]]) -> dict[str, str]:
    data: dict[str, str] = {}
    for obj in objects:
        if obj["kind"] == "ConfigMap":
            data.update(obj.get("data", {}))
        if obj["kind"] == "Secret":
            data.update(obj.get("stringData", {}))
    return data


def documented_variables() -> dict[str, str]:
    """docs/configuration.md's table: variable name -> its default column."""
    found: dict[str, str] = {}
    for line in (ROOT / "docs" / "configuration.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and cells[0].startswith("`EDITAI_"):
            found[cells[0].strip("`")] = cells[2]
    return found


def variables_read_by_code() -> set[str]:
    names: set[str] = set()
    for root in CODE_ROOTS:
        path = ROOT / root
        files = [path] if path.is_file() else sorted(path.rglob("*.py")) if path.exists() else []
        for file in files:
            names.update(ENV_NAME.findall(file.read_text(errors="replace")))
    # Built from the service name at run time (settings.service_port / service_address, the metrics port).
    for service in DEFAULT_PORTS:
        names.update({f"EDITAI_{service.upper()}_PORT", f"EDITAI_{service.upper()}_ADDR"})
    for service in [*GRPC_SERVICES, "render_worker"]:
        names.add(f"EDITAI_{service.upper()}_METRICS_PORT")
    return names


# --- validity ------------------------------------------------------------------------------------


def test_every_manifest_passes_the_kubernetes_schema(objects: list[dict[str, Any]]) -> None:
    for obj in objects:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_the_validator_rejects_a_broken_manifest(objects: list[dict[str, Any]]) -> None:
    """Guards the test above: a misspelt field must not pass."""
    broken = yaml.safe_load(yaml.safe_dump(by_kind(objects, "Deployment")["editai-render"]))
    container_of(broken)["readinessProb"] = container_of(broken).pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


KUSTOMIZATIONS = [BASE, *sorted(p for p in OVERLAYS.iterdir() if p.is_dir())] if OVERLAYS.exists() else [BASE]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (with kustomize) is not installed")
@pytest.mark.parametrize("folder", KUSTOMIZATIONS, ids=lambda p: p.name)
def test_kubectl_kustomize_output_passes_the_schema(folder: Path) -> None:
    """The real kustomize (patches, generators, image tags applied), validated object by object."""
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(folder)], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    docs = [doc for doc in yaml.safe_load_all(rendered) if doc]
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    names = sorted((doc["kind"], doc["metadata"]["name"]) for doc in docs)
    assert names == sorted((obj["kind"], obj["metadata"]["name"]) for obj in render_kustomization(folder))


# --- consistency with the code -------------------------------------------------------------------


def test_every_service_has_a_deployment_service_and_disruption_budget(objects: list[dict[str, Any]]) -> None:
    for kind in ("Deployment", "Service", "PodDisruptionBudget"):
        assert set(by_kind(objects, kind)) >= {f"editai-{name}" for name in DEFAULT_PORTS}, kind
    assert set(by_kind(objects, "HorizontalPodAutoscaler")) >= {"editai-render-worker", "editai-gateway"}


def test_render_workers_run_the_worker_module_and_scale_on_their_own(objects: list[dict[str, Any]]) -> None:
    deployments = by_kind(objects, "Deployment")
    worker = container_of(deployments["editai-render-worker"])
    assert worker["command"][:3] == ["python", "-m", "services.render.worker"]
    assert (ROOT / "services" / "render" / "worker.py").exists()
    port = int(worker["command"][worker["command"].index("--port") + 1])
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert worker[probe]["grpc"]["port"] == port, probe

    def workers(container: dict[str, Any]) -> str:
        return next(e["value"] for e in container.get("env", []) if e["name"] == "EDITAI_RENDER_WORKERS")

    assert workers(worker) != "0"
    assert workers(container_of(deployments["editai-render"])) == "0", "API pods run no jobs"
    # Worker pods are not behind the render Service: nobody dials them.
    selector = by_kind(objects, "Service")["editai-render"]["spec"]["selector"]
    labels = deployments["editai-render-worker"]["spec"]["template"]["metadata"]["labels"]
    assert not selector.items() <= labels.items()
    hpa = by_kind(objects, "HorizontalPodAutoscaler")["editai-render-worker"]["spec"]
    assert hpa["scaleTargetRef"]["name"] == "editai-render-worker" and hpa["maxReplicas"] > hpa["minReplicas"]
    grace = deployments["editai-render-worker"]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace >= 60, "a stopping worker needs time to hand its job back"


@pytest.mark.parametrize("service", sorted(DEFAULT_PORTS))
def test_commands_run_modules_that_exist_on_the_ports_the_code_uses(
    objects: list[dict[str, Any]], service: str
) -> None:
    container = container_of(by_kind(objects, "Deployment")[f"editai-{service}"])
    command = container["command"]
    assert command[:3] == ["python", "-m", f"services.{service}"]
    assert (ROOT / "services" / service / "__main__.py").exists()
    port = int(command[command.index("--port") + 1])
    assert port == DEFAULT_PORTS[service]
    config = config_data(objects)
    assert config[f"EDITAI_{service.upper()}_PORT"] == str(port)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    service_ports = {p["name"]: p for p in by_kind(objects, "Service")[f"editai-{service}"]["spec"]["ports"]}
    for name, target in ports.items():
        assert service_ports[name]["targetPort"] in (name, target)


@pytest.mark.parametrize("service", GRPC_SERVICES)
def test_grpc_services_use_native_grpc_probes_on_their_port(objects: list[dict[str, Any]], service: str) -> None:
    deployment = by_kind(objects, "Deployment")[f"editai-{service}"]
    container = container_of(deployment)
    port = DEFAULT_PORTS[service]
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert container[probe]["grpc"]["port"] == port, probe
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["grpc"] == port
    config = config_data(objects)
    # The metrics port the code will serve is the one exposed and scraped.
    metrics_port = int(config[f"EDITAI_{service.upper()}_METRICS_PORT"])
    assert ports["metrics"] == metrics_port
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(metrics_port)
    # Others dial the headless Service on the same port (every pod's address: calls are balanced).
    host, _, addr_port = config[f"EDITAI_{service.upper()}_ADDR"].rpartition(":")
    assert (host, int(addr_port)) == (f"editai-{service}", port)
    assert by_kind(objects, "Service")[f"editai-{service}"]["spec"]["clusterIP"] == "None"


def test_gateway_probes_its_http_health_routes(objects: list[dict[str, Any]]) -> None:
    container = container_of(by_kind(objects, "Deployment")["editai-gateway"])
    port = DEFAULT_PORTS["gateway"]
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port}
    gateway = "".join(path.read_text() for path in (ROOT / "services" / "gateway").rglob("*.py"))
    assert '"/readyz"' in gateway and '"/healthz"' in gateway


def test_pods_run_non_root_read_only_without_capabilities(objects: list[dict[str, Any]]) -> None:
    for name, deployment in by_kind(objects, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        container = container_of(deployment)
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True, name
        assert context["allowPrivilegeEscalation"] is False, name
        assert context["capabilities"]["drop"] == ["ALL"], name
        assert container["resources"]["requests"] and container["resources"]["limits"], name
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert "emptyDir" in volumes[mounts["/tmp"]], f"{name}: /tmp must be writable"


def test_media_volume_is_shared_read_write_many(objects: list[dict[str, Any]]) -> None:
    claim = by_kind(objects, "PersistentVolumeClaim")["editai-media"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    config = config_data(objects)
    for service in ("gateway", "render", "tts"):
        deployment = by_kind(objects, "Deployment")[f"editai-{service}"]
        mounts = {m["mountPath"]: m["name"] for m in container_of(deployment)["volumeMounts"]}
        volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
        media = volumes[mounts[config["EDITAI_DATA_DIR"]]]
        assert media["persistentVolumeClaim"]["claimName"] == "editai-media", service


def test_secrets_live_in_the_secret_not_the_configmap(objects: list[dict[str, Any]]) -> None:
    configmap = by_kind(objects, "ConfigMap")["editai-config"]["data"]
    secret = by_kind(objects, "Secret")["editai-secrets"]["stringData"]
    for name in ("EDITAI_DATABASE_URL", "EDITAI_REDIS_URL", "EDITAI_JWT_SECRET"):
        assert name in secret and name not in configmap
    assert not any(re.search("KEY|SECRET|PASSWORD|TOKEN", name) for name in configmap)
    for deployment in by_kind(objects, "Deployment").values():
        sources = container_of(deployment)["envFrom"]
        assert {"configMapRef": {"name": "editai-config"}} in sources
        assert {"secretRef": {"name": "editai-secrets"}} in sources


# --- environment variables -----------------------------------------------------------------------


def test_every_variable_the_code_reads_is_documented() -> None:
    missing = sorted(variables_read_by_code() - set(documented_variables()))
    assert not missing, f"add these to docs/configuration.md: {missing}"


def test_every_variable_deployed_is_documented(objects: list[dict[str, Any]]) -> None:
    unknown = sorted(set(config_data(objects)) - set(documented_variables()))
    assert not unknown, f"set in deploy/k8s but not documented in docs/configuration.md: {unknown}"


def test_required_variables_are_set_in_the_cluster_config(objects: list[dict[str, Any]]) -> None:
    required = {name for name, default in documented_variables().items() if default.lower().startswith("required")}
    assert required, "docs/configuration.md marks required variables with 'required'"
    assert not required - set(config_data(objects))


def test_only_editai_pods_reach_the_grpc_ports(objects: list[dict[str, Any]]) -> None:
    """The services trust x-profile-id, so the NetworkPolicy must cover every gRPC pod and admit every caller."""
    policy = by_kind(objects, "NetworkPolicy")["editai-grpc-internal"]["spec"]
    selected = set(policy["podSelector"]["matchExpressions"][0]["values"])
    internal, metrics = policy["ingress"]
    admitted = internal["from"][0]["podSelector"]["matchLabels"]
    open_ports = {p["port"] for p in internal["ports"]}
    for name, deployment in by_kind(objects, "Deployment").items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert admitted.items() <= labels.items(), f"{name} could not call the gRPC services"
        ports = {p["name"]: p["containerPort"] for p in container_of(deployment)["ports"]}
        if "grpc" in ports:
            assert labels["app.kubernetes.io/name"] in selected, f"{name} is not protected"
            assert ports["grpc"] in open_ports
            assert ports["metrics"] in {p["port"] for p in metrics["ports"]}
