"""Rendered Kubernetes manifests: schema-valid offline, wired together, probes and limits."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes_validate import ValidationError, validate

# The oldest Kubernetes minor we still promise, and the newest schema shipped.
KUBERNETES_VERSIONS = ["1.30.0", "1.37.0"]
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "Job"}
STORES = {"postgres", "kafka", "cassandra", "firestore-emulator"}

Manifest = dict[str, Any]
Peers = Callable[[Manifest, str], Iterator[tuple[dict[str, Any], set[int]]]]
Pods = list[tuple[Manifest, dict[str, str], dict[str, Any]]]


def pods(docs: list[Manifest]) -> Pods:
    """(workload, pod labels, pod spec) for every workload."""
    return [
        (doc, doc["spec"]["template"]["metadata"]["labels"], doc["spec"]["template"]["spec"])
        for doc in docs
        if doc["kind"] in WORKLOAD_KINDS
    ]


def container_ports(spec: dict[str, Any]) -> set[int]:
    """Every port a pod spec's containers open."""
    return {p["containerPort"] for c in spec["containers"] for p in c.get("ports", [])}


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def named(docs: list[Manifest], kind: str) -> dict[str, Manifest]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


@pytest.fixture
def dev(rendered: dict[str, list[Manifest]]) -> list[Manifest]:
    """The dev overlay, rendered: the only one with the stores."""
    return rendered["dev"]


@pytest.fixture
def dev_pods(dev: list[Manifest]) -> Pods:
    return pods(dev)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("overlay", ["base", "dev"])
def test_every_manifest_validates_against_the_schema(
    rendered: dict[str, list[Manifest]], overlay: str, version: str
) -> None:
    docs = rendered[overlay]
    assert len(docs) >= 20, f"{overlay} renders only {len(docs)} objects"
    errors = []
    for doc in docs:
        try:
            validate(doc, version, strict=True)
        except ValidationError as exc:
            errors.append(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message}")
    assert not errors, "\n".join(errors)


def test_the_validator_rejects_a_broken_manifest(rendered: dict[str, list[Manifest]]) -> None:
    # Guards the check above: a misspelt field must fail strict validation, not pass.
    deployment = dict(named(rendered["base"], "Deployment")["auth-service"])
    broken = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(ValidationError):
        validate(broken, KUBERNETES_VERSIONS[-1], strict=True)


# chat-api keeps serving through a Kafka outage (the outbox holds announcements), so
# Kubernetes routes to it by /readyz/serving, which does not count Kafka.
READINESS_PATHS = {
    "auth-service": "/readyz",
    "chat-api": "/readyz/serving",
    "chat-worker": "/readyz",
    "aggregator": "/readyz",
}
# The image each Deployment runs: chat-api and chat-worker are one package's two commands.
IMAGES = {
    "auth-service": "auth-service",
    "chat-api": "chat-service",
    "chat-worker": "chat-service",
    "aggregator": "aggregator",
}


@pytest.mark.parametrize("overlay", ["base", "dev"])
def test_api_services_expose_metrics_only_off_the_service(
    rendered: dict[str, list[Manifest]], overlay: str
) -> None:
    deployments = named(rendered[overlay], "Deployment")
    services = named(rendered[overlay], "Service")
    for name in ("auth-service", "chat-api"):
        container = deployments[name]["spec"]["template"]["spec"]["containers"][0]
        ports = {port["name"]: port["containerPort"] for port in container["ports"]}
        assert "metrics" in ports, name
        exposed = {port["targetPort"] for port in services[name]["spec"]["ports"]}
        assert exposed == {"http"}, name


@pytest.mark.parametrize("overlay", ["base", "dev"])
def test_services_have_probes_limits_and_run_as_non_root(
    rendered: dict[str, list[Manifest]], overlay: str
) -> None:
    deployments = named(rendered[overlay], "Deployment")
    assert set(deployments) == set(READINESS_PATHS)
    for name, deployment in deployments.items():
        spec = deployment["spec"]["template"]["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] != 0, name
        assert spec["enableServiceLinks"] is False, name
        for container in spec["containers"]:
            assert container["readinessProbe"]["httpGet"]["path"] == READINESS_PATHS[name], name
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
            for bound in ("requests", "limits"):
                assert set(container["resources"][bound]) >= {"cpu", "memory"}, (name, bound)
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
            assert container["image"].startswith(f"chat-backend/{IMAGES[name]}:"), name


def test_base_is_read_only_and_dev_allows_live_update(
    rendered: dict[str, list[Manifest]],
) -> None:
    for overlay, expected in (("base", True), ("dev", False)):
        for name, deployment in named(rendered[overlay], "Deployment").items():
            container = deployment["spec"]["template"]["spec"]["containers"][0]
            assert container["securityContext"]["readOnlyRootFilesystem"] is expected, (
                overlay,
                name,
            )


@pytest.mark.parametrize("overlay", ["base", "dev"])
def test_references_resolve_within_the_render(
    rendered: dict[str, list[Manifest]], overlay: str
) -> None:
    docs = rendered[overlay]
    config_maps, secrets = named(docs, "ConfigMap"), named(docs, "Secret")
    accounts = named(docs, "ServiceAccount")
    for workload, _, spec in pods(docs):
        where = f"{workload['kind']}/{workload['metadata']['name']}"
        if "serviceAccountName" in spec:
            assert spec["serviceAccountName"] in accounts, where
        for volume in spec.get("volumes", []):
            if "secret" in volume:
                assert volume["secret"]["secretName"] in secrets, where
            if "configMap" in volume:
                assert volume["configMap"]["name"] in config_maps, where
        for container in spec["containers"]:
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    assert source["configMapRef"]["name"] in config_maps, where
                if "secretRef" in source:
                    assert source["secretRef"]["name"] in secrets, where
            claims = workload["spec"].get("volumeClaimTemplates", [])
            volumes = {v["name"] for v in spec.get("volumes", [])}
            volumes |= {claim["metadata"]["name"] for claim in claims}
            mounted = {mount["name"] for mount in container.get("volumeMounts", [])}
            assert mounted <= volumes, where


@pytest.mark.parametrize("overlay", ["base", "dev"])
def test_selectors_match_the_pods_they_are_meant_for(
    rendered: dict[str, list[Manifest]], overlay: str
) -> None:
    docs = rendered[overlay]
    all_pods = pods(docs)
    for service in named(docs, "Service").values():
        matched = [w for w, labels, _ in all_pods if selects(service["spec"]["selector"], labels)]
        assert matched, f"Service/{service['metadata']['name']} selects no pods"
        # Never a migration Job's pod: it would receive traffic it cannot answer.
        assert {w["kind"] for w in matched} <= {"Deployment", "StatefulSet"}, service
        for port in service["spec"]["ports"]:
            target = port["targetPort"]
            for _, _, spec in (p for p in all_pods if p[0] in matched):
                names = {
                    p.get("name") for c in spec["containers"] for p in c.get("ports", [])
                } | container_ports(spec)
                assert target in names, f"Service/{service['metadata']['name']} -> {target}"
    for budget in named(docs, "PodDisruptionBudget").values():
        selector = budget["spec"]["selector"]["matchLabels"]
        matched = [w for w, labels, _ in all_pods if selects(selector, labels)]
        assert [w["kind"] for w in matched] == ["Deployment"], budget["metadata"]["name"]
    for workload, labels, _ in all_pods:
        if workload["kind"] != "Job":
            assert selects(workload["spec"]["selector"]["matchLabels"], labels), workload


def test_chat_api_autoscales_and_owns_its_replica_count(
    rendered: dict[str, list[Manifest]],
) -> None:
    for overlay in ("base", "dev"):
        docs = rendered[overlay]
        autoscalers = named(docs, "HorizontalPodAutoscaler")
        assert set(autoscalers) == {"chat-api"}
        target = autoscalers["chat-api"]["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) == ("Deployment", "chat-api")
        # A fixed replica count would fight the autoscaler on every apply.
        assert "replicas" not in named(docs, "Deployment")["chat-api"]["spec"]


@pytest.mark.parametrize("overlay", ["base", "dev"])
def test_chat_worker_runs_the_worker_with_its_own_probes_and_metrics(
    rendered: dict[str, list[Manifest]], overlay: str
) -> None:
    worker = named(rendered[overlay], "Deployment")["chat-worker"]
    pod = worker["spec"]["template"]
    container = pod["spec"]["containers"][0]
    assert container["command"] == ["python", "-m", "chat_service.worker"]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    env = {d["metadata"]["name"]: d for d in rendered[overlay] if d["kind"] == "ConfigMap"}
    config = next(c["data"] for n, c in env.items() if n.startswith("chat-service-config"))
    assert ports == {"health": int(config["WORKER_PORT"]), "metrics": int(config["OPS_PORT"])}
    assert pod["metadata"]["annotations"]["prometheus.io/port"] == config["OPS_PORT"]
    # No Service: nothing calls the worker; Prometheus scrapes the pods.
    assert "chat-worker" not in named(rendered[overlay], "Service")


def test_one_migration_job_per_migrating_service(rendered: dict[str, list[Manifest]]) -> None:
    jobs = named(rendered["base"], "Job")
    commands = {
        name: job["spec"]["template"]["spec"]["containers"][0]["command"]
        for name, job in jobs.items()
    }
    assert commands == {
        "auth-service-migrate": ["python", "-m", "auth_service.migrate"],
        "chat-migrate": ["python", "-m", "chat_service.store.migrate"],
    }


def test_stores_live_only_in_the_dev_overlay(
    rendered: dict[str, list[Manifest]], dev: list[Manifest]
) -> None:
    assert not named(rendered["base"], "StatefulSet")
    stateful = named(dev, "StatefulSet")
    assert set(stateful) == STORES
    for name, store in stateful.items():
        assert store["spec"]["replicas"] == 1, name
        assert store["spec"]["serviceName"] in named(dev, "Service"), name


def test_network_policy_selectors_match_pods_and_open_ports(
    dev: list[Manifest], dev_pods: Pods, peers: Peers
) -> None:
    """Who may reach whom is nca's check (test_connectivity.py, against infra/rights); here,
    what it cannot see: a selector that matches nothing would silently cut a component
    off, and a port no container listens on is a typo."""
    for name, policy in named(dev, "NetworkPolicy").items():
        spec = policy["spec"]
        assert set(spec["policyTypes"]) == {"Ingress", "Egress"} or spec["policyTypes"] == [
            "Ingress"
        ], name
        selector = spec["podSelector"].get("matchLabels", {})
        assert [w for w, labels, _ in dev_pods if selects(selector, labels)], name
        for peer, ports in peers(spec, "egress"):
            labels = peer.get("podSelector", {}).get("matchLabels")
            if "ipBlock" in peer or labels == {"k8s-app": "kube-dns"}:
                continue
            targets = [spec for _, pod_labels, spec in dev_pods if selects(labels, pod_labels)]
            assert targets, f"{name}: egress selector {labels} matches no pod in dev"
            for target in targets:
                assert ports <= container_ports(target), (name, labels, ports)
