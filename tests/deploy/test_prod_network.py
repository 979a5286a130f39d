"""NetworkPolicies of the prod overlay: each service reaches only DNS, its operator-run stores
(selected by the labels the operators put on their pods, derived here from the custom
resources), the APIs it calls and Firestore; each store admits only its services, its own
members and its operator."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest

Manifest = dict[str, Any]
Objects = dict[str, dict[str, Manifest]]
Peers = Callable[[Manifest, str], Iterator[tuple[dict[str, Any], set[int]]]]
DNS = {"k8s-app": "kube-dns"}
FIRESTORE = ("0.0.0.0/0", 443)
# Workload Identity's tokens come from the GKE metadata server.
METADATA = ("169.254.169.254/32", 80)


def store_pods(prod: Objects) -> dict[str, dict[str, str]]:
    """The labels the operators give the store pods, by store."""
    kafka = next(iter(prod["Kafka"]))
    (cassandra,) = {dc["spec"]["clusterName"] for dc in prod["CassandraDatacenter"].values()}
    return {
        "kafka": {"strimzi.io/cluster": kafka, "strimzi.io/broker-role": "true"},
        "cassandra": {"cassandra.datastax.com/cluster": cassandra},
        "postgres": {"cnpg.io/cluster": next(iter(prod["Cluster"]))},
    }


def kafka_port(prod: Objects) -> int:
    (listener,) = next(iter(prod["Kafka"].values()))["spec"]["kafka"]["listeners"]
    port: int = listener["port"]
    return port


def resolve(prod: Objects, selector: dict[str, str]) -> set[str]:
    """What a pod selector reaches: a store (by the operators' labels) or our workloads."""
    stores = {name for name, labels in store_pods(prod).items() if selector == labels}
    if stores:
        return stores
    reached = {
        workload["metadata"]["name"]
        for kind in ("Deployment", "Job")
        for workload in prod[kind].values()
        if selector.items() <= workload["spec"]["template"]["metadata"]["labels"].items()
    }
    assert reached, f"selector {selector} matches no pod of this overlay or its operators"
    return reached


def egress(prod: Objects, peers: Peers, service: str) -> set[tuple[str, int]]:
    policy = prod["NetworkPolicy"][service]["spec"]
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}, service
    reached: set[tuple[str, int]] = set()
    for peer, ports in peers(policy, "egress"):
        if "ipBlock" in peer:
            reached |= {(peer["ipBlock"]["cidr"], port) for port in ports}
        elif peer["podSelector"]["matchLabels"] == DNS:
            assert ports == {53}, service
        else:
            assert "namespaceSelector" not in peer, (service, peer)
            for target in resolve(prod, peer["podSelector"]["matchLabels"]):
                reached |= {(target, port) for port in ports}
    return reached


def test_services_reach_only_their_stores_apis_and_firestore(prod: Objects, peers: Peers) -> None:
    kafka = ("kafka", kafka_port(prod))
    assert egress(prod, peers, "auth-service") == {("postgres", 5432)}
    assert egress(prod, peers, "chat-api") == {
        ("cassandra", 9042),
        kafka,
        ("auth-service", 8001),
        FIRESTORE,
        METADATA,
    }
    assert egress(prod, peers, "chat-worker") == {("cassandra", 9042), kafka, FIRESTORE, METADATA}
    assert egress(prod, peers, "aggregator") == {kafka, FIRESTORE, METADATA}


# Who may connect to each operator-run store, and on which port.
EXPECTED_STORE_INGRESS = {
    "postgres": {
        ("auth-service", 5432),
        ("auth-service-migrate", 5432),
        ("postgres", 5432),  # replication between the instances
        ("namespace cnpg-system", 5432),
        ("namespace cnpg-system", 8000),
    },
    "cassandra": {
        ("chat-api", 9042),
        ("chat-migrate", 9042),
        ("chat-worker", 9042),
        ("cassandra", 7000),  # gossip and streaming between the nodes
        ("cassandra", 7001),
        ("namespace cass-operator", 8080),
    },
}


@pytest.mark.parametrize("store", sorted(EXPECTED_STORE_INGRESS))
def test_stores_admit_only_their_services_members_and_operator(
    prod: Objects, peers: Peers, store: str
) -> None:
    labels = store_pods(prod)[store]
    guarding = [
        p["spec"]
        for p in prod["NetworkPolicy"].values()
        if p["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
    ]
    assert guarding, f"no NetworkPolicy selects the {store} pods"
    admitted: set[tuple[str, int]] = set()
    for policy in guarding:
        assert "Ingress" in policy["policyTypes"]
        for peer, ports in peers(policy, "ingress"):
            if "namespaceSelector" in peer:
                assert "podSelector" not in peer, peer
                namespace = peer["namespaceSelector"]["matchLabels"]
                source = f"namespace {namespace['kubernetes.io/metadata.name']}"
                admitted |= {(source, port) for port in ports}
            else:
                for target in resolve(prod, peer["podSelector"]["matchLabels"]):
                    admitted |= {(target, port) for port in ports}
    assert admitted == EXPECTED_STORE_INGRESS[store]


def test_kafka_listener_admits_only_the_services_that_use_kafka(prod: Objects) -> None:
    # Strimzi generates the listener's NetworkPolicy from these peers.
    (listener,) = next(iter(prod["Kafka"].values()))["spec"]["kafka"]["listeners"]
    admitted = set()
    for peer in listener["networkPolicyPeers"]:
        assert set(peer) == {"podSelector"}, peer
        admitted |= resolve(prod, peer["podSelector"]["matchLabels"])
    # The API pods, the worker and the aggregator; not the chat migration Job.
    assert admitted == {"chat-api", "chat-worker", "aggregator"}
