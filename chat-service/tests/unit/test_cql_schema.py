import pytest

from chat_service.store.schema import create_keyspace_cql


def test_keyspace_statement_carries_name_and_factor() -> None:
    cql = create_keyspace_cql("chat_test_1", 3)
    assert "IF NOT EXISTS chat_test_1" in cql
    assert "'replication_factor': 3" in cql


@pytest.mark.parametrize("name", ["Chat", "chat; DROP", "1chat", "", "a" * 49])
def test_keyspace_names_are_validated(name: str) -> None:
    with pytest.raises(ValueError):
        create_keyspace_cql(name, 1)


def test_replication_factor_must_be_positive() -> None:
    with pytest.raises(ValueError):
        create_keyspace_cql("chat", 0)


def test_a_datacenter_gives_network_topology_strategy() -> None:
    cql = create_keyspace_cql("chat", 3, "dc1")
    assert cql.endswith("{'class': 'NetworkTopologyStrategy', 'dc1': 3}")


@pytest.mark.parametrize("datacenter", ["dc1'}; DROP KEYSPACE chat; --", "dc 1"])
def test_datacenter_names_are_validated(datacenter: str) -> None:
    with pytest.raises(ValueError):
        create_keyspace_cql("chat", 3, datacenter)
