"""The driver cluster's settings that decide how the service lives through an outage."""

from itertools import islice

from chat_service.store.cassandra import build_cluster


def test_reconnection_to_a_node_never_gives_up() -> None:
    # The driver's default schedule ends after 64 tries: a node down longer than that
    # would never be used again by a running process.
    cluster = build_cluster(["127.0.0.1"], 9042, connect_timeout=1.0, request_timeout=1.0)
    schedule = list(islice(cluster.reconnection_policy.new_schedule(), 1000))
    assert len(schedule) == 1000
    assert max(schedule) <= 5.0
