"""Pod Security: both overlays' namespaces enforce the `restricted` level, and every pod
they render (prod: and every pod the operators make from its custom resources) meets it,
so a pod that does not is refused here and not first by the API server."""

from typing import Any

import pytest

Manifest = dict[str, Any]
Objects = dict[str, dict[str, Manifest]]
# What `restricted` allows besides the defaults (Kubernetes' Pod Security Standards).
VOLUME_KINDS = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}


def restricted_violations(name: str, pod: Manifest) -> list[str]:
    """What keeps a pod spec from the `restricted` level (empty when it meets it)."""
    problems = []
    context = pod.get("securityContext", {})
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(flag):
            problems.append(f"{name}: {flag}")
    for volume in pod.get("volumes", []):
        kinds = set(volume) - {"name"}
        if not kinds <= VOLUME_KINDS:
            problems.append(f"{name}: volume {volume['name']} is {kinds}")
    for container in pod.get("initContainers", []) + pod["containers"]:
        own = container.get("securityContext", {})
        where = f"{name}/{container['name']}"
        if own.get("privileged"):
            problems.append(f"{where}: privileged")
        if own.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{where}: allowPrivilegeEscalation is not false")
        capabilities = own.get("capabilities", {})
        if "ALL" not in capabilities.get("drop", []):
            problems.append(f"{where}: capabilities not dropped")
        if set(capabilities.get("add", [])) - {"NET_BIND_SERVICE"}:
            problems.append(f"{where}: adds {capabilities['add']}")
        if not own.get("runAsNonRoot", context.get("runAsNonRoot")):
            problems.append(f"{where}: runAsNonRoot not set")
        if own.get("runAsUser", context.get("runAsUser")) == 0:
            problems.append(f"{where}: runs as root")
        seccomp = own.get("seccompProfile", context.get("seccompProfile", {}))
        if seccomp.get("type") not in ("RuntimeDefault", "Localhost"):
            problems.append(f"{where}: no seccomp profile")
        if any(port.get("hostPort") for port in container.get("ports", [])):
            problems.append(f"{where}: hostPort")
    return problems


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_the_namespace_enforces_restricted_and_every_pod_meets_it(
    rendered: dict[str, list[Manifest]], overlay: str
) -> None:
    (namespace,) = [doc for doc in rendered[overlay] if doc["kind"] == "Namespace"]
    labels = namespace["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    pods = [
        (doc["metadata"]["name"], doc["spec"]["template"]["spec"])
        for doc in rendered[overlay]
        if doc["kind"] in ("Deployment", "StatefulSet", "Job", "DaemonSet")
    ]
    assert pods
    problems = [p for name, pod in pods for p in restricted_violations(name, pod)]
    assert not problems, problems


def test_checker_refuses_what_restricted_refuses() -> None:
    good = {
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [
            {
                "name": "c",
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "capabilities": {"drop": ["ALL"]},
                },
            }
        ],
    }
    assert restricted_violations("good", good) == []
    assert restricted_violations("no-context", {"containers": [{"name": "c"}]})
    bad = {**good, "volumes": [{"name": "h", "hostPath": {"path": "/"}}]}
    assert restricted_violations("host-path", bad)


def operator_pod_contexts(prod: Objects) -> dict[str, tuple[Manifest, list[Manifest]]]:
    """(pod security context, container security contexts) each custom resource asks its
    operator for."""
    out = {}
    for name, pool in prod["KafkaNodePool"].items():
        template = pool["spec"]["template"]
        containers = [template["kafkaContainer"], template["initContainer"]]
        out[f"KafkaNodePool {name}"] = (template["pod"], containers)
    for name, kafka in prod["Kafka"].items():
        template = kafka["spec"]["entityOperator"]["template"]
        containers = [template["topicOperatorContainer"], template["userOperatorContainer"]]
        out[f"Kafka {name} entity operator"] = (template["pod"], containers)
    for name, cluster in prod["Cluster"].items():
        spec = cluster["spec"]
        out[f"Cluster {name}"] = (
            {"securityContext": spec["podSecurityContext"]},
            [{"securityContext": spec["securityContext"]}],
        )
    for name, dc in prod["CassandraDatacenter"].items():
        pod = dc["spec"]["podTemplateSpec"]["spec"]
        # cass-operator's containers, which it merges these into by name.
        names = {c["name"] for c in pod["containers"] + pod["initContainers"]}
        assert names == {"cassandra", "server-system-logger", "server-config-init"}, names
        out[f"CassandraDatacenter {name}"] = (pod, pod["containers"] + pod["initContainers"])
    return out


def test_the_operators_pods_are_asked_to_meet_restricted(prod: Objects) -> None:
    for what, (pod, containers) in operator_pod_contexts(prod).items():
        as_pod = {
            "securityContext": pod["securityContext"],
            "containers": [{"name": str(i), **c} for i, c in enumerate(containers)],
        }
        assert restricted_violations(what, as_pod) == []
