"""k8s/overlays/prod, rendered by kustomize: every built-in object valid against the Kubernetes
schema, every operator resource valid against its CRD schema with unknown fields refused, and
the services run highly available (replicas, budgets, autoscalers, zones)."""

import copy
from typing import Any

import pytest
from kubernetes_validate import ValidationError, validate

Manifest = dict[str, Any]
Objects = dict[str, dict[str, Manifest]]
KUBERNETES_VERSIONS = ["1.30.0", "1.37.0"]
SERVICES = {"auth-service", "chat-api", "chat-worker", "aggregator"}
OPERATOR_KINDS = {
    "Kafka",
    "KafkaNodePool",
    "KafkaTopic",
    "KafkaUser",
    "Cluster",
    "CassandraDatacenter",
    "PrometheusRule",
    "PodMonitor",
}


def everything(prod: Objects) -> list[Manifest]:
    return [doc for by_name in prod.values() for doc in by_name.values()]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_built_in_objects_validate_against_the_kubernetes_schema(
    prod: Objects, crds: Any, version: str
) -> None:
    problems = []
    for doc in (d for d in everything(prod) if not crds.is_custom(d)):
        try:
            validate(doc, version, strict=True)
        except ValidationError as exc:
            problems.append(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message}")
    assert not problems, "\n".join(problems)


def test_custom_resources_validate_against_their_crd_schemas(prod: Objects, crds: Any) -> None:
    custom = [d for d in everything(prod) if crds.is_custom(d)]
    assert {d["kind"] for d in custom} == OPERATOR_KINDS
    problems = [
        f"{d['kind']}/{d['metadata']['name']}: {problem}"
        for d in custom
        for problem in crds.errors(d)
    ]
    assert not problems, "\n".join(problems)
    for doc in custom:
        # The API server checks a CR's metadata as ObjectMeta; we only write these keys.
        assert set(doc["metadata"]) <= {"name", "namespace", "labels", "annotations"}, doc


def _with(doc: Manifest, path: list[str | int], key: str, value: object) -> Manifest:
    """A copy of `doc` with `key: value` added to the mapping at `path`."""
    mutated = copy.deepcopy(doc)
    node: Any = mutated
    for step in path:
        node = node[step]
    node[key] = value
    return mutated


# Misspelt fields, added beside the real ones so only unknown-field checking can catch them,
# at every depth and in every kind.
TYPOS = [
    ("Kafka", "chat-kafka", ["spec", "kafka", "listeners", 0], "networkPolicyPeer", []),
    ("Kafka", "chat-kafka", ["spec", "kafka"], "replica", 3),
    ("KafkaNodePool", "brokers", ["spec"], "role", ["broker"]),
    ("KafkaTopic", "chat-messages", ["spec"], "partition", 6),
    ("KafkaUser", "aggregator", ["spec", "authorization", "acls", 0], "operation", "Read"),
    ("Cluster", "chat-pg", ["spec", "postgresql", "synchronous"], "dataDurabilty", "required"),
    ("Cluster", "chat-pg", ["spec"], "instance", 3),
    ("CassandraDatacenter", "dc1", ["spec"], "sizes", 3),
    ("CassandraDatacenter", "dc1", ["spec", "racks", 0], "nodeAfinityLabels", {}),
    (
        "CassandraDatacenter",
        "dc1",
        ["spec", "storageConfig", "cassandraDataVolumeClaimSpec", "resources"],
        "request",
        {"storage": "1Gi"},
    ),
    ("KafkaTopic", "user-events", [], "specs", {}),
    ("PrometheusRule", "chat-backend-alerts", ["spec", "groups", 0], "interval_", "1m"),
    ("PrometheusRule", "chat-backend-alerts", ["spec", "groups", 1, "rules", 0], "fro", "5m"),
    ("PodMonitor", "chat-backend", ["spec", "podMetricsEndpoints", 0], "scrapeInterval", "30s"),
    ("PodMonitor", "chat-backend", ["spec"], "podSelector", {}),
]


@pytest.mark.parametrize(("kind", "name", "path", "key", "value"), TYPOS)
def test_a_misspelt_field_in_a_custom_resource_fails(
    prod: Objects,
    crds: Any,
    kind: str,
    name: str,
    path: list[str | int],
    key: str,
    value: object,
) -> None:
    doc = prod[kind][name]
    assert not crds.errors(doc), "the unmutated resource must be valid for this to mean anything"
    problems = crds.errors(_with(doc, path, key, value))
    assert any(repr(key) in problem for problem in problems), problems


def test_unknown_fields_are_caught_by_closing_the_schemas(prod: Objects, crds: Any) -> None:
    # cass-operator's CRD keeps unknown fields in `spec`: unless closed, a typo passes.
    doc = _with(prod["CassandraDatacenter"]["dc1"], ["spec"], "sizes", 3)
    assert crds.errors(doc, strict=False) == []
    assert crds.errors(doc, strict=True)


def test_a_value_outside_the_schema_fails_too(prod: Objects, crds: Any) -> None:
    doc = copy.deepcopy(prod["KafkaUser"]["chat-api"])
    doc["spec"]["authorization"]["acls"][0]["operations"] = ["Scribble"]
    assert crds.errors(doc)


def test_services_run_highly_available(prod: Objects) -> None:
    deployments = prod["Deployment"]
    autoscalers = prod["HorizontalPodAutoscaler"]
    budgets = prod["PodDisruptionBudget"]
    assert set(deployments) == set(autoscalers) == set(budgets) == SERVICES
    for name, deployment in deployments.items():
        target = autoscalers[name]["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) == ("Deployment", name)
        assert autoscalers[name]["spec"]["minReplicas"] >= 2, name
        # A fixed count would fight the autoscaler on every apply.
        assert "replicas" not in deployment["spec"], name
        assert budgets[name]["spec"]["maxUnavailable"] == 1, name
        spec = deployment["spec"]["template"]["spec"]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        zones = [
            c
            for c in spec["topologySpreadConstraints"]
            if c["topologyKey"] == "topology.kubernetes.io/zone"
        ]
        assert zones, f"{name} is not spread across zones"
        assert zones[0]["whenUnsatisfiable"] == "DoNotSchedule", name
        assert zones[0]["labelSelector"]["matchLabels"].items() <= labels.items(), name


def test_aggregator_never_outnumbers_the_partitions(prod: Objects) -> None:
    # Members beyond the partition count of chat-messages would sit idle.
    partitions = prod["KafkaTopic"]["chat-messages"]["spec"]["partitions"]
    assert prod["HorizontalPodAutoscaler"]["aggregator"]["spec"]["maxReplicas"] <= partitions


def test_chat_worker_never_outnumbers_the_partitions_it_reads(prod: Objects) -> None:
    # It is a member of a group on chat-messages and one on user-events: past the smaller
    # partition count, a worker would idle in that group.
    partitions = min(
        prod["KafkaTopic"][topic]["spec"]["partitions"]
        for topic in ("chat-messages", "user-events")
    )
    assert prod["HorizontalPodAutoscaler"]["chat-worker"]["spec"]["maxReplicas"] <= partitions


def test_production_runs_as_production(prod: Objects) -> None:
    settings = [
        config
        for config in prod["ConfigMap"].values()
        if "grafana_dashboard" not in config["metadata"].get("labels", {})
    ]
    assert settings
    for config in settings:
        assert config["data"]["ENVIRONMENT"] == "prod", config["metadata"]["name"]
    # No store of the dev overlay, and no emulator: the operators run the stores.
    assert "StatefulSet" not in prod
    docs = everything(prod)
    assert all(d["metadata"]["name"] != "firestore-emulator" for d in docs)
    assert {d["metadata"].get("namespace", "chat") for d in docs} == {"chat"}
    assert set(prod["Namespace"]) == {"chat"}
