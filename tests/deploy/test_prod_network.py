"""NetworkPolicies of the prod overlay, as written: each operator-run store (selected by the
labels the operators put on their pods, derived here from the custom resources) admits the
components that infra/rights/source.py gives it, its own members and its operator. The
flows themselves, both ways, are checked by nca in test_connectivity.py."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from infra.rights.source import COMPONENTS, Peer

Manifest = dict[str, Any]
Objects = dict[str, dict[str, Manifest]]
Peers = Callable[[Manifest, str], Iterator[tuple[dict[str, Any], set[int]]]]


def store_pods(prod: Objects) -> dict[str, dict[str, str]]:
    """The labels the operators give the store pods, by store."""
    kafka = next(iter(prod["Kafka"]))
    (cassandra,) = {dc["spec"]["clusterName"] for dc in prod["CassandraDatacenter"].values()}
    return {
        "kafka": {"strimzi.io/cluster": kafka, "strimzi.io/broker-role": "true"},
        "cassandra": {"cassandra.datastax.com/cluster": cassandra},
        "postgres": {"cnpg.io/cluster": next(iter(prod["Cluster"]))},
    }


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


def users_of(peer: Peer, port: int) -> set[tuple[str, int]]:
    """The workloads the source lets reach `peer`."""
    return {(c.workload, port) for c in COMPONENTS.values() if peer in c.peers() and c.workload}


# Who may connect to each operator-run store, and on which port: the source's users, and
# the store's own members and operator.
EXPECTED_STORE_INGRESS = {
    "postgres": users_of(Peer.POSTGRES, 5432)
    | {
        ("postgres", 5432),  # replication between the instances
        ("namespace cnpg-system", 5432),
        ("namespace cnpg-system", 8000),
    },
    "cassandra": users_of(Peer.CASSANDRA, 9042)
    | {
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
        if p["spec"]["podSelector"].get("matchLabels", {}).items() <= labels.items()
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
    # Topic setup is Strimzi's Topic Operator here, not a Job of ours.
    users = {workload for workload, _ in users_of(Peer.KAFKA, 0)} & set(prod["Deployment"])
    assert "auth-service" in users
    assert admitted == users
