"""Cassandra (one node, 5.0) does what the chat service relies on, through cassandra-driver.

A table clustered by `timeuuid` DESC returns a partition newest-first and pages by
"strictly older than", all through prepared statements. Each test works in its own keyspace,
so the suite can run again and again against a long-running server.
"""

import asyncio
import os
import random
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from cassandra.cluster import (
    EXEC_PROFILE_DEFAULT,
    Cluster,
    ExecutionProfile,
    NoHostAvailable,
    Session,
)
from cassandra.policies import RoundRobinPolicy
from cassandra.query import PreparedStatement
from cassandra.util import datetime_from_uuid1, uuid_from_time

from chat_common.store_access import CassandraAccessSettings, cassandra_cluster_kwargs

HOST = "127.0.0.1"
PORT = int(os.environ.get("CASSANDRA_PORT", "9042"))
READY_TIMEOUT_S = 60.0

T = TypeVar("T")


def _new_cluster() -> Cluster:
    # One local node: an explicit policy also keeps the driver from warning about its default.
    profile = ExecutionProfile(load_balancing_policy=RoundRobinPolicy(), request_timeout=30)
    return Cluster(
        [HOST],
        port=PORT,
        execution_profiles={EXEC_PROFILE_DEFAULT: profile},
        connect_timeout=5,
        control_connection_timeout=5,
        # As the `tests` role, from the environment (infra/run-tests.sh).
        **cassandra_cluster_kwargs(CassandraAccessSettings()),
    )


def _connect_when_ready(log_tail: Callable[[str], str]) -> tuple[Cluster, Session]:
    """Wait (bounded) until a CQL query answers; fail with the server's log otherwise."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        cluster = _new_cluster()
        try:
            session = cluster.connect()
            session.execute("SELECT release_version FROM system.local")
            return cluster, session
        except (NoHostAvailable, OSError) as exc:
            cluster.shutdown()
            if time.monotonic() > deadline:
                pytest.fail(
                    f"Cassandra is not answering CQL on {HOST}:{PORT} after {READY_TIMEOUT_S:.0f}s"
                    f" (run `make up`): {exc!r}\n{log_tail('cassandra')}",
                    pytrace=False,
                )
            time.sleep(1)


@pytest.fixture(scope="session")
def session(log_tail: Callable[[str], str]) -> Iterator[Session]:
    cluster, session = _connect_when_ready(log_tail)
    yield session
    cluster.shutdown()


@pytest.fixture
def keyspace(session: Session) -> Iterator[str]:
    name = f"smoke_{uuid.uuid4().hex[:16]}"
    session.execute(
        f"CREATE KEYSPACE {name} WITH replication = {{'class': 'SimpleStrategy', "
        "'replication_factor': 1}"
    )
    yield name
    session.execute(f"DROP KEYSPACE IF EXISTS {name}")


async def _run(call: Callable[..., T], *args: Any) -> T:
    # The driver's calls block; keep them off the event loop as a service would.
    return await asyncio.to_thread(call, *args)


async def _messages_table(session: Session, keyspace: str) -> PreparedStatement:
    """A chat's messages newest-first, as chat-service keeps them; its prepared insert."""
    await _run(
        session.execute,
        f"CREATE TABLE {keyspace}.messages (chat_id uuid, message_id timeuuid, body text,"
        " PRIMARY KEY ((chat_id), message_id)) WITH CLUSTERING ORDER BY (message_id DESC)",
    )
    return await _run(
        session.prepare,
        f"INSERT INTO {keyspace}.messages (chat_id, message_id, body) VALUES (?, ?, ?)",
    )


async def test_server_is_cassandra_5_0(session: Session) -> None:
    row = await _run(session.execute, "SELECT release_version FROM system.local")
    assert row.one().release_version.startswith("5.0."), row.one().release_version


async def test_timeuuid_desc_partition_reads_newest_first(session: Session, keyspace: str) -> None:
    insert = await _messages_table(session, keyspace)
    select = await _run(
        session.prepare, f"SELECT message_id, body FROM {keyspace}.messages WHERE chat_id = ?"
    )
    chat_id, other_chat = uuid.uuid4(), uuid.uuid4()
    # Time UUIDs one millisecond apart, written in shuffled order: the table must sort them.
    start = time.time()
    ids = [uuid_from_time(start + i / 1000) for i in range(20)]
    shuffled = ids[:]
    random.shuffle(shuffled)
    for message_id in shuffled:
        await _run(session.execute, insert, (chat_id, message_id, f"text {ids.index(message_id)}"))
    await _run(session.execute, insert, (other_chat, uuid_from_time(start), "elsewhere"))

    rows = list(await _run(session.execute, select, (chat_id,)))

    assert [r.message_id for r in rows] == ids[::-1]
    assert [r.body for r in rows] == [f"text {i}" for i in reversed(range(20))]
    times = [datetime_from_uuid1(r.message_id) for r in rows]
    assert times == sorted(times, reverse=True)


async def test_page_strictly_older_than_a_timeuuid(session: Session, keyspace: str) -> None:
    insert = await _messages_table(session, keyspace)
    older_than = await _run(
        session.prepare,
        f"SELECT message_id FROM {keyspace}.messages WHERE chat_id = ? AND message_id < ? LIMIT ?",
    )
    chat_id = uuid.uuid4()
    start = time.time()
    ids = [uuid_from_time(start + i / 1000) for i in range(10)]
    for i, message_id in enumerate(ids):
        await _run(session.execute, insert, (chat_id, message_id, f"text {i}"))

    # Walk the history newest-first, 4 at a time, the way the chat API pages.
    pages: list[list[uuid.UUID]] = []
    cursor = uuid_from_time(start + 1)  # later than every message
    while True:
        page = [r.message_id for r in await _run(session.execute, older_than, (chat_id, cursor, 4))]
        if not page:
            break
        pages.append(page)
        cursor = page[-1]

    assert [len(p) for p in pages] == [4, 4, 2]
    assert [m for p in pages for m in p] == ids[::-1]
