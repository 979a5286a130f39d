"""Crash tests: kill -9 a real server right after it acknowledged messages, bring it back
with `make up`, and check that nothing acknowledged was lost or doubled.

They stop servers that everything else shares, so they run last (`infra/run-tests.sh`).
Every wait is on an event (a pid gone, a readiness answer, documents present, the
aggregator drained), bounded.
"""

import asyncio
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from cassandra.cluster import Cluster
from google.cloud import firestore

from chat_common.contract.firestore import firestore_client
from chat_common.store_access import (
    CassandraAccessSettings,
    KafkaAccessSettings,
    cassandra_cluster_kwargs,
    kafka_client_kwargs,
)
from chat_common.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
STATE = REPO / ".state"
AUTH_URL = os.environ.get("AUTH_URL", "http://127.0.0.1:8001").rstrip("/")
CHAT_URL = os.environ.get("CHAT_URL", "http://127.0.0.1:8002").rstrip("/")
AGGREGATOR_URL = os.environ.get("AGGREGATOR_URL", "http://127.0.0.1:8003").rstrip("/")
FIRESTORE_HOST = os.environ.get("FIRESTORE_EMULATOR_HOST", "127.0.0.1:8080")
FIRESTORE_PROJECT = os.environ.get("FIRESTORE_PROJECT", "demo-chat")
KEYSPACE = os.environ.get("CASSANDRA_KEYSPACE", "chat")
PASSWORD = "crash-password-1"
MAKE_UP_SECONDS = 600.0
SETTLE_SECONDS = 120.0


async def until(what: str, check: Callable[[], Awaitable[bool]], timeout: float) -> None:
    """Poll `check` until it holds; TimeoutError naming `what` after `timeout` seconds."""
    await wait_until(check, what, timeout)


def kill9(component: str) -> None:
    """kill -9 the process `make up` recorded for `component`, and wait until it is gone."""
    pid = int((STATE / component / "pid").read_text())
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while _alive(pid):
        assert time.monotonic() < deadline, f"{component} (pid {pid}) survived kill -9"
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


async def make_up() -> None:
    """`make up`: starts whatever is not running and returns once all is healthy."""
    process = await asyncio.create_subprocess_exec(
        "make", "up", cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), MAKE_UP_SECONDS)
    assert process.returncode == 0, output.decode(errors="replace")[-3000:]


@dataclass(frozen=True)
class User:
    id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Chat:
    id: str
    members: tuple[User, User]


class Stack:
    """The running services, as a client and an operator see them."""

    def __init__(self, http: httpx.AsyncClient, store: firestore.Client) -> None:
        self.http = http
        self.firestore = store

    async def ready(self) -> None:
        async def answers() -> bool:
            try:
                return (await self.http.get(f"{CHAT_URL}/readyz")).status_code == 200
            except httpx.HTTPError:
                return False

        await until("chat-api ready", answers, SETTLE_SECONDS)

    async def user(self) -> User:
        name = f"crash{uuid.uuid4().hex[:12]}"
        registered = await self.http.post(
            f"{AUTH_URL}/auth/register", json={"username": name, "password": PASSWORD}
        )
        assert registered.status_code == 201, registered.text
        login = await self.http.post(
            f"{AUTH_URL}/auth/login", json={"username": name, "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        return User(registered.json()["id"], login.json()["access_token"])

    async def chat(self) -> Chat:
        a, b = await self.user(), await self.user()
        created = await self.http.post(
            f"{CHAT_URL}/chats", json={"user_id": b.id}, headers=a.headers
        )
        assert created.status_code == 201, created.text
        return Chat(created.json()["id"], (a, b))

    async def burst(self, chat: Chat, count: int) -> tuple[list[str], datetime]:
        """Send `count` messages at once from both members; the acknowledged ids (every
        send must be acknowledged) and when the last acknowledgement came."""

        async def send(n: int) -> str:
            user = chat.members[n % 2]
            response = await self.http.post(
                f"{CHAT_URL}/chat/{chat.id}/messages",
                json={"text": f"crash burst {n}"},
                headers=user.headers,
            )
            assert response.status_code == 201, response.text
            return str(response.json()["id"])

        ids = await asyncio.gather(*(send(n) for n in range(count)))
        return list(ids), datetime.now(UTC)

    async def burst_then_kill(self, component: str, count: int) -> tuple[Chat, list[str], datetime]:
        """A new chat, a burst of `count` acknowledged sends, kill -9 of `component` right
        after the last 201, and `make up` until all is ready again: (chat, ids, last ack)."""
        chat = await self.chat()
        acknowledged, last_ack = await self.burst(chat, count)
        kill9(component)
        await make_up()
        await self.ready()
        return chat, acknowledged, last_ack

    def kill(self, component: str) -> None:
        """kill -9 `component` and wait until it is gone; `restart` brings it back."""
        kill9(component)

    async def restart(self) -> None:
        """`make up` until all is ready again."""
        await make_up()
        await self.ready()

    async def history(self, chat: Chat) -> list[str]:
        """Every message id of the chat, walking pages back to its start."""
        ids: list[str] = []
        params: dict[str, Any] = {"quantity": 100}
        while True:
            page = await self.http.get(
                f"{CHAT_URL}/chat/{chat.id}", params=params, headers=chat.members[0].headers
            )
            assert page.status_code == 200, page.text
            body = page.json()
            ids += [item["id"] for item in body["items"]]
            if body["next_time"] is None:
                return ids
            params = {"quantity": 100, "time": body["next_time"]}

    async def firestore_ids(self, chat: Chat) -> Counter[str]:
        """How many batch documents of the chat hold each message id."""

        def read() -> Counter[str]:
            docs = self.firestore.collection("chats").document(chat.id).collection("batches")
            return Counter(m["id"] for doc in docs.stream() for m in doc.to_dict()["messages"])

        return await asyncio.to_thread(read)

    async def assert_in_firestore_exactly_once(
        self, chat: Chat, ids: list[str], since: datetime
    ) -> None:
        """Wait until every id is in a batch document, every event that a relay replay
        may still publish is published, and the aggregator has written all it consumed;
        then each id must be in exactly one document."""

        async def all_there() -> bool:
            return set(ids) <= set(await self.firestore_ids(chat))

        await until("every acknowledged message in Firestore", all_there, SETTLE_SECONDS)
        await until(
            "the outbox relay swept past the burst", lambda: swept_past(since), SETTLE_SECONDS
        )
        await until("the aggregator drained", self._aggregator_drained, SETTLE_SECONDS)
        counts = await self.firestore_ids(chat)
        doubled = {i: counts[i] for i in ids if counts[i] != 1}
        assert not doubled, f"messages not in exactly one document: {doubled}"

    async def _aggregator_drained(self) -> bool:
        try:
            metrics = (await self.http.get(f"{AGGREGATOR_URL}/metrics")).text
        except httpx.HTTPError:
            return False
        # The consume loop's lag per partition and what the projection holds unwritten.
        group = 'group="aggregator"'
        gauges = [
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith(("chat_consumer_lag_records{", "chat_consumer_backlog{"))
            and group in line
        ]
        return bool(gauges) and not any(gauges)


async def swept_past(instant: datetime) -> bool:
    """True once every outbox shard's watermark is past `instant`: whatever the relay
    would announce again (a replay after a crash) has been announced."""

    def read() -> bool:
        cluster = Cluster(["127.0.0.1"], protocol_version=5, **CASSANDRA_ACCESS)
        try:
            session = cluster.connect()
            rows = list(session.execute(f"SELECT swept_to FROM {KEYSPACE}.outbox_watermark"))
        except Exception:  # Cassandra still starting: not yet
            return False
        finally:
            cluster.shutdown()
        return bool(rows) and all(row.swept_to.replace(tzinfo=UTC) > instant for row in rows)

    return await asyncio.to_thread(read)


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    store = firestore_client(FIRESTORE_PROJECT, FIRESTORE_HOST)
    async with httpx.AsyncClient(timeout=10.0) as http:
        services = Stack(http, store)
        await services.ready()
        yield services
        # Whatever a test killed is running again for the next one (and other suites).
        await make_up()
    store.close()


KAFKA = "127.0.0.1:9092"
# As the local `tests` Kafka user: its credentials come in the environment (infra/run-tests.sh).
ACCESS = kafka_client_kwargs(KafkaAccessSettings())
CASSANDRA_ACCESS = cassandra_cluster_kwargs(CassandraAccessSettings())
TOPIC = "chat-messages"
INBOX_GROUP = "chat-inbox"


async def topic_ends() -> dict[TopicPartition, int]:
    """Each partition's end offset now."""
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA, **ACCESS)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([TOPIC])
    finally:
        await admin.close()
    partitions = [TopicPartition(TOPIC, p["partition"]) for p in described["partitions"]]
    assert partitions, f"topic {TOPIC} has no partitions"
    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA, **ACCESS)
    await consumer.start()
    try:
        return dict(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


async def inbox_committed_past(ends: dict[TopicPartition, int]) -> bool:
    """True once the inbox group has committed up to `ends` (it commits only behind what
    it has counted and written to Firestore)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA, **ACCESS)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(INBOX_GROUP, partitions=list(ends))
    finally:
        await admin.close()
    return all(tp in committed and committed[tp].offset >= end for tp, end in ends.items())
