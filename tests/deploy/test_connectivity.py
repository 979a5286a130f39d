"""The rendered dev and prod overlays, run through np-guard's network-config-analyzer
(`nca`): between the project's pods (services, migration Jobs, stores, Prometheus) exactly
the flows that infra/rights/source.py lists are allowed, no other; from outside the
cluster only the client ports; out of it only what the source's Google peers need.

The prod render has no store pods (the operators make them at run time) and no Kafka
ingress policy (Strimzi writes it from the listener's `networkPolicyPeers`), so the prod
check adds stand-in pods carrying the labels each operator gives its pods, and the policy
Strimzi would write. Both checks add a stand-in Prometheus in namespace `monitoring`.
"""

import ipaddress
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.rights.source import COMPONENTS, Peer

Manifest = dict[str, Any]
Objects = dict[str, dict[str, Manifest]]
# (source endpoint, destination endpoint) -> the TCP ports allowed (ALL: any).
Flows = dict[tuple[str, str], frozenset[int]]
ALL = frozenset({-1})
PROMETHEUS = "monitoring/prometheus"
INTERNET = "internet"
# Google's APIs through Private Google Access, and the GKE metadata server.
GOOGLE = ipaddress.ip_network("199.36.153.8/30")
METADATA = ipaddress.ip_network("169.254.169.254/32")


def stand_in_pod(namespace: str, name: str, labels: dict[str, str]) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"containers": [{"name": "main", "image": "stand-in"}]},
    }


def monitoring() -> list[Manifest]:
    labels = {"kubernetes.io/metadata.name": "monitoring"}
    namespace = {"apiVersion": "v1", "kind": "Namespace"}
    namespace["metadata"] = {"name": "monitoring", "labels": labels}
    pod = stand_in_pod("monitoring", "prometheus", {"app.kubernetes.io/name": "prometheus"})
    return [namespace, pod]


def prod_store_pods(prod: Objects) -> dict[Peer, Manifest]:
    """One pod per operator-run store, labelled as its operator labels them."""
    kafka = next(iter(prod["Kafka"]))
    (cassandra,) = {dc["spec"]["clusterName"] for dc in prod["CassandraDatacenter"].values()}
    postgres = next(iter(prod["Cluster"]))
    namespace = next(iter(prod["Namespace"]))
    labels = {
        Peer.KAFKA: {
            "strimzi.io/cluster": kafka,
            "strimzi.io/kind": "Kafka",
            "strimzi.io/name": f"{kafka}-kafka",
            "strimzi.io/broker-role": "true",
        },
        Peer.CASSANDRA: {"cassandra.datastax.com/cluster": cassandra},
        Peer.POSTGRES: {"cnpg.io/cluster": postgres},
    }
    return {peer: stand_in_pod(namespace, f"{peer}-0", lbl) for peer, lbl in labels.items()}


def strimzi_listener_policy(prod: Objects) -> Manifest:
    """The NetworkPolicy Strimzi writes for the brokers' client listeners."""
    kafka = next(iter(prod["Kafka"].values()))
    name = kafka["metadata"]["name"]
    ingress = [
        {"from": listener["networkPolicyPeers"], "ports": [{"protocol": "TCP", "port": port}]}
        for listener in kafka["spec"]["kafka"]["listeners"]
        for port in [listener["port"]]
    ]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"{name}-network-policy-kafka", "namespace": "chat"},
        "spec": {
            "podSelector": {"matchLabels": {"strimzi.io/name": f"{name}-kafka"}},
            "policyTypes": ["Ingress"],
            "ingress": ingress,
        },
    }


def kafka_port(prod: Objects) -> int:
    (listener,) = next(iter(prod["Kafka"].values()))["spec"]["kafka"]["listeners"]
    port: int = listener["port"]
    return port


_LINE = re.compile(r"^(\S+) => (\S+) : (.+)$")


def endpoint(text: str) -> str:
    """`chat/chat-api[Deployment]` -> `chat/chat-api`; an address range stays as it is."""
    return text.split("[", 1)[0]


def ports(text: str) -> frozenset[int]:
    if text.strip() == "All connections":
        return ALL
    out: set[int] = set()
    for group in re.findall(r"\{([^}]*)\}", text):
        protocols = re.search(r"protocols:([A-Z, ]+?)(,dst_ports|$)", group)
        assert protocols, group
        found = re.search(r"dst_ports:([0-9,\- ]+)", group)
        if not found:
            return ALL
        for item in found.group(1).split(","):
            low, _, high = item.strip().partition("-")
            out |= set(range(int(low), int(high or low) + 1))
    return frozenset(out)


def run_nca(nca: Path, manifests: list[Manifest], workdir: Path) -> Flows:
    config = workdir / "config.yaml"
    config.write_text(yaml.safe_dump_all(manifests))
    out = workdir / "connectivity.txt"
    argv = [str(nca), "--connectivity", str(config), "--resource_list", str(config)]
    argv += ["--output_format", "txt_no_fw_rules", "--file_out", str(out)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    flows: Flows = {}
    for line in out.read_text().splitlines():
        match = _LINE.match(line.strip())
        if match:
            source, target, connections = match.groups()
            key = (endpoint(source), endpoint(target))
            flows[key] = flows.get(key, frozenset()) | ports(connections)
    assert flows, "nca reported no connectivity at all"
    return flows


def external(address: str) -> ipaddress.IPv4Network | None:
    """The network of an address range nca printed (None if it is not one)."""
    if not re.match(r"^[0-9.]+(-[0-9.]+)?$", address):
        return None
    low, _, high = address.partition("-")
    (first, *rest) = ipaddress.summarize_address_range(
        ipaddress.IPv4Address(low), ipaddress.IPv4Address(high or low)
    )
    return first if not rest else ipaddress.ip_network("0.0.0.0/0")


class Deployment:
    """Where each peer of the source is, in one rendered overlay."""

    def __init__(self, namespace: str, peers: dict[Peer, tuple[str, int] | None]) -> None:
        self.namespace = namespace
        self.peers = peers

    def workload(self, name: str) -> str:
        return f"{self.namespace}/{name}"


def expected_flows(where: Deployment, present: set[str]) -> Flows:
    """The flows the source asks for between the project's endpoints."""
    flows: dict[tuple[str, str], set[int]] = {}
    for component in COMPONENTS.values():
        if component.workload not in present:
            continue
        source = where.workload(component.workload)
        for peer in component.peers():
            target = where.peers.get(peer)
            if target is not None:
                flows.setdefault((source, target[0]), set()).add(target[1])
        if component.metrics_port:
            flows.setdefault((PROMETHEUS, source), set()).add(component.metrics_port)
        # Client ports are open to every address, Prometheus's too.
        if component.serves:
            flows.setdefault((PROMETHEUS, source), set()).update(component.serves)
    return {key: frozenset(value) for key, value in flows.items()}


def check(flows: Flows, where: Deployment, present: set[str], google: bool) -> None:
    workloads = {where.workload(c.workload) for c in COMPONENTS.values() if c.workload in present}
    stores = {target for target, _ in filter(None, where.peers.values())}
    inside = workloads | stores | {PROMETHEUS}
    expected = expected_flows(where, present)
    # Between the project's endpoints: exactly what the source lists.
    actual = {
        (source, target): allowed
        for (source, target), allowed in flows.items()
        if source in inside and target in inside and source != target
    }
    missing = {k: v for k, v in expected.items() if not v <= actual.get(k, frozenset())}
    extra = {k: v - expected.get(k, frozenset()) for k, v in actual.items()}
    extra = {k: v for k, v in extra.items() if v}
    assert not missing, f"flows the source needs but the policies block: {missing}"
    assert not extra, f"flows the policies allow but the source does not list: {extra}"
    # From outside the cluster: the client ports, nothing else.
    served = {
        where.workload(c.workload): c.serves for c in COMPONENTS.values() if c.workload in present
    }
    for (source, target), allowed in flows.items():
        if external(source) is not None and target in workloads | stores:
            assert allowed <= served.get(target, frozenset()), (source, target, allowed)
    # Out of the cluster: Google's private range on 443 and the metadata server, only for
    # the components the source gives Firestore or Google's APIs; nothing in dev.
    reach_google = {
        where.workload(c.workload)
        for c in COMPONENTS.values()
        if google and (c.firestore or c.google_apis) and c.workload in present
    }
    for (source, target), allowed in flows.items():
        network = external(target)
        if source in workloads | stores and network is not None:
            assert source in reach_google, (source, target, allowed)
            assert (network.subnet_of(GOOGLE) and allowed == {443}) or (
                network.subnet_of(METADATA) and allowed == {80}
            ), (source, target, allowed)
    for source in reach_google:
        reached = {net for (s, t), allowed in flows.items() if s == source and (net := external(t))}
        assert any(GOOGLE.subnet_of(net) for net in reached), f"{source} cannot reach Google"


def present_workloads(objects: list[Manifest]) -> set[str]:
    return {
        doc["metadata"]["name"]
        for doc in objects
        if doc["kind"] in ("Deployment", "Job", "StatefulSet")
    }


def test_dev_overlay_allows_exactly_the_sources_flows(
    rendered: dict[str, list[Manifest]], nca: Path, tmp_path: Path
) -> None:
    dev = rendered["dev"]
    namespace = next(d["metadata"]["name"] for d in dev if d["kind"] == "Namespace")
    where = Deployment(
        namespace,
        {
            Peer.POSTGRES: (f"{namespace}/postgres", 5432),
            Peer.KAFKA: (f"{namespace}/kafka", 9092),
            Peer.CASSANDRA: (f"{namespace}/cassandra", 9042),
            Peer.FIRESTORE: (f"{namespace}/firestore-emulator", 8080),
            Peer.AUTH_SERVICE: (f"{namespace}/auth-service", 8001),
            Peer.GOOGLE_APIS: None,
        },
    )
    flows = run_nca(nca, [*dev, *monitoring()], tmp_path)
    present = present_workloads(dev)
    assert {"auth-service", "chat-worker", "kafka-topics"} <= present
    check(flows, where, present, google=False)
    # The two: auth-service reaches Kafka; nobody reaches the topic-setup Job.
    assert 9092 in flows[(f"{namespace}/auth-service", f"{namespace}/kafka")]
    assert not [k for k in flows if k[1] == f"{namespace}/kafka-topics"]


def test_prod_overlay_allows_exactly_the_sources_flows(
    rendered: dict[str, list[Manifest]], prod: Objects, nca: Path, tmp_path: Path
) -> None:
    namespace = next(iter(prod["Namespace"]))
    stores = prod_store_pods(prod)
    where = Deployment(
        namespace,
        {
            Peer.POSTGRES: (f"{namespace}/{stores[Peer.POSTGRES]['metadata']['name']}", 5432),
            Peer.KAFKA: (f"{namespace}/{stores[Peer.KAFKA]['metadata']['name']}", kafka_port(prod)),
            Peer.CASSANDRA: (f"{namespace}/{stores[Peer.CASSANDRA]['metadata']['name']}", 9042),
            Peer.AUTH_SERVICE: (f"{namespace}/auth-service", 8001),
            # Outside the cluster: checked as addresses.
            Peer.FIRESTORE: None,
            Peer.GOOGLE_APIS: None,
        },
    )
    extra = [*stores.values(), strimzi_listener_policy(prod), *monitoring()]
    flows = run_nca(nca, [*rendered["prod"], *extra], tmp_path)
    present = present_workloads(rendered["prod"])
    check(flows, where, present, google=True)
    kafka = where.peers[Peer.KAFKA]
    assert kafka and kafka[1] in flows[(f"{namespace}/auth-service", kafka[0])]


@pytest.fixture(scope="session")
def nca(tool_output: Callable[[list[str], float], str], repo: Path) -> Path:
    """np-guard's nca, in a virtualenv of its own (infra/tools/install-nca.sh)."""
    script = repo / "infra" / "tools" / "install-nca.sh"
    return Path(tool_output(["bash", str(script)], 600).strip().splitlines()[-1])
