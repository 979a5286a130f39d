"""The local Cassandra enforces infra/rights/source.py's roles: no login without a role and
its password (the published default login is locked), and a service's role may read and
write the chat tables but not change the schema, which only the migrations' role may."""

from typing import Any

import pytest
from cassandra import Unauthorized
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import NoHostAvailable

from infra.rights.local import DEFAULT_CASSANDRA_LOGIN, cassandra_auth
from infra.rights.local import cassandra_connect as connect
from infra.rights.source import COMPONENTS

SERVICES = sorted(name for name, c in COMPONENTS.items() if c.cassandra and c.cassandra.read_write)
KEYSPACE = "chat"


@pytest.mark.parametrize(
    "auth",
    [None, PlainTextAuthProvider(*DEFAULT_CASSANDRA_LOGIN), PlainTextAuthProvider("chat-api", "x")],
    ids=["no credentials", "the default login", "a wrong password"],
)
def test_a_client_without_a_valid_login_is_refused(auth: Any) -> None:
    connect(cassandra_auth("tests")).shutdown()  # the node is up: the refusal is real
    with pytest.raises(NoHostAvailable) as refused:
        connect(auth)
    assert "authentic" in repr(refused.value.errors).lower(), refused.value.errors


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_reads_and_writes_rows_but_cannot_change_the_schema(service: str) -> None:
    assert {"chat-api", "chat-worker"} <= set(SERVICES)
    cluster = connect(cassandra_auth(service))
    try:
        session = cluster.connect(KEYSPACE)
        session.execute("SELECT * FROM chat_counts LIMIT 1")
        for statement in (
            "CREATE TABLE intruder (id int PRIMARY KEY)",
            "ALTER TABLE message WITH comment = 'x'",
            "DROP TABLE message",
            "CREATE KEYSPACE intruder WITH replication = "
            "{'class': 'SimpleStrategy', 'replication_factor': 1}",
        ):
            with pytest.raises(Unauthorized):
                session.execute(statement)
    finally:
        cluster.shutdown()


def test_the_migrations_role_owns_the_keyspace() -> None:
    cluster = connect(cassandra_auth("chat-migrations"))
    try:
        session = cluster.connect(KEYSPACE)
        # Harmless DDL that only an owner may run, undone at once.
        session.execute("CREATE TABLE IF NOT EXISTS rights_probe (id int PRIMARY KEY)")
        session.execute("DROP TABLE rights_probe")
    finally:
        cluster.shutdown()
