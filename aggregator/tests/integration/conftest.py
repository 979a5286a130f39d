"""Real Kafka (127.0.0.1:9092) and the Firestore emulator (127.0.0.1:8080); no fakes.

Every test gets its own topic, consumer group and chat ids, so runs repeat cleanly against
the long-running servers and never see another test's (or another team's) data.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from google.cloud.firestore import AsyncClient

from chat_common.contract.events import MessageCreated
from chat_common.contract.firestore import async_firestore_client, firestore_client
from chat_common.waiting import wait_until_ready

KAFKA = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
FIRESTORE_HOST = os.environ.get("FIRESTORE_EMULATOR_HOST", "127.0.0.1:8080")
PROJECT = os.environ.get("FIRESTORE_PROJECT", "demo-chat")
READY_TIMEOUT = 60.0


@pytest.fixture(scope="session")
async def kafka_admin() -> AsyncIterator[AIOKafkaAdminClient]:
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA, request_timeout_ms=10_000)

    async def started() -> None:
        await admin.start()
        await admin.list_topics()

    try:
        await wait_until_ready(started, f"Kafka at {KAFKA}", READY_TIMEOUT)
    except TimeoutError as exc:
        pytest.fail(f"{exc}; start the servers with `make up`", pytrace=False)
    yield admin
    await admin.close()


@pytest.fixture(scope="session")
async def firestore() -> AsyncIterator[AsyncClient]:
    client = async_firestore_client(PROJECT, FIRESTORE_HOST)

    async def reachable() -> None:
        await client.collection("aggregator-tests").document("probe").get(timeout=3)

    try:
        await wait_until_ready(reachable, f"Firestore emulator at {FIRESTORE_HOST}", READY_TIMEOUT)
    except TimeoutError as exc:
        pytest.fail(f"{exc}; start the servers with `make up`", pytrace=False)
    yield client
    client.close()


@pytest.fixture(scope="session")
async def producer(kafka_admin: AIOKafkaAdminClient) -> AsyncIterator[AIOKafkaProducer]:
    prod = AIOKafkaProducer(bootstrap_servers=KAFKA, acks="all", linger_ms=5)
    await prod.start()
    yield prod
    await prod.stop()


@dataclass
class Topics:
    """A unique topic, dead-letter topic and consumer group for one test."""

    name: str
    dlq: str
    group: str


@pytest.fixture
async def topics(kafka_admin: AIOKafkaAdminClient) -> AsyncIterator[Topics]:
    tag = uuid.uuid4().hex[:10]
    made = Topics(f"agg-test-{tag}", f"agg-test-{tag}-dlq", f"agg-test-{tag}")
    partitions = {made.name: 4, made.dlq: 1}
    await kafka_admin.create_topics(
        [NewTopic(name, count, replication_factor=1) for name, count in partitions.items()]
    )

    async def led() -> None:
        # The broker's metadata trails CreateTopics a moment; a consumer that asks in that
        # moment is told the topic does not exist and gets no partitions for minutes.
        for topic in await kafka_admin.describe_topics(list(partitions)):
            leaders = [p["leader"] for p in topic["partitions"]]
            if len(leaders) != partitions[topic["topic"]] or min(leaders, default=-1) < 0:
                raise LookupError(f"{topic['topic']} not led yet: {topic}")

    await wait_until_ready(led, f"topics {list(partitions)}", timeout=30, interval=0.1)
    yield made
    await kafka_admin.delete_topics([made.name, made.dlq])


class EventSender:
    """Produces chat message events as chat-service would, and remembers what it sent.

    Senders are named for readability ("alice"); each name stands for a user id (a UUID,
    as the contract requires) of its own in every test.
    """

    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self.producer = producer
        self.topic = topic
        self.sent: dict[str, list[tuple[uuid.UUID, str]]] = {}
        self.values: dict[uuid.UUID, tuple[str, bytes]] = {}
        self.users: dict[str, str] = {}
        self.senders: dict[str, list[str]] = {}

    def user(self, name: str) -> str:
        return self.users.setdefault(name, str(uuid.uuid4()))

    def members(self, chat_id: str, sender_id: str) -> tuple[uuid.UUID, uuid.UUID]:
        """The sender and the chat's other sender (a stand-in until another one speaks)."""
        known = self.senders.setdefault(chat_id, [])
        if sender_id not in known:
            known.append(sender_id)
        other = next((u for u in known if u != sender_id), self.user("a quiet member"))
        return uuid.UUID(sender_id), uuid.UUID(other)

    def event(self, chat_id: str, sender: str, text: str, message_id: uuid.UUID) -> bytes:
        """The record value chat-service would produce."""
        sender_id = self.user(sender)
        members = self.members(chat_id, sender_id)
        return MessageCreated.of(
            message_id, uuid.UUID(chat_id), uuid.UUID(sender_id), members, text
        ).encode()

    async def send(
        self, chat_id: str, sender: str, text: str = "hi", message_id: uuid.UUID | None = None
    ) -> uuid.UUID:
        message_id = message_id or uuid.uuid1()
        sender_id = self.user(sender)
        value = self.event(chat_id, sender, text, message_id)
        await self.producer.send(self.topic, key=chat_id.encode(), value=value)
        self.sent.setdefault(chat_id, []).append((message_id, sender_id))
        self.values[message_id] = (chat_id, value)
        return message_id

    async def redeliver(self, message_id: uuid.UUID) -> None:
        """The same event again, byte for byte (an outbox re-announce, a replay)."""
        chat_id, value = self.values[message_id]
        await self.send_raw(chat_id, value)

    async def send_raw(self, chat_id: str, value: bytes) -> None:
        await self.producer.send(self.topic, key=chat_id.encode(), value=value)

    async def flush(self) -> None:
        await self.producer.flush()

    @property
    def ids(self) -> set[str]:
        return {str(i) for items in self.sent.values() for i, _ in items}

    @property
    def chats(self) -> list[str]:
        return list(self.sent)


@pytest.fixture
def events(producer: AIOKafkaProducer, topics: Topics) -> EventSender:
    return EventSender(producer, topics.name)


class Batches:
    """Reads batch documents back from Firestore."""

    def __init__(self, client: AsyncClient) -> None:
        self.client = client

    async def read(self, chat_ids: list[str]) -> list[dict[str, Any]]:
        docs: list[dict[str, Any]] = []
        for chat_id in chat_ids:
            col = self.client.collection("chats").document(chat_id).collection("batches")
            async for snap in col.stream():
                docs.append({"_id": snap.id, **(snap.to_dict() or {})})
        return docs

    async def wait_for(
        self, chat_ids: list[str], expected: set[str], timeout: float = 30.0
    ) -> list[dict[str, Any]]:
        """Poll until every expected id is written (or time out); return the docs."""
        deadline = time.monotonic() + timeout
        while True:
            docs = await self.read(chat_ids)
            if expected <= set(self.id_counts(docs)) or time.monotonic() > deadline:
                return docs
            await asyncio.sleep(0.3)

    @staticmethod
    def id_counts(docs: list[dict[str, Any]]) -> Counter[str]:
        return Counter(m["id"] for d in docs for m in d["messages"])


@pytest.fixture
def batches(firestore: AsyncClient) -> Batches:
    return Batches(firestore)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class AggregatorProcess:
    """`python -m aggregator` as its own process, as `make up` runs it."""

    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self, timeout: float = 15.0) -> float:
        """SIGTERM; return how long the process took to exit."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout)
        return time.monotonic() - started

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    async def logged(self, text: str, timeout: float = 30.0) -> None:
        """Wait until the process has logged `text` (fail after `timeout`)."""
        deadline = time.monotonic() + timeout
        while text not in self.log.read_text(errors="replace"):
            assert time.monotonic() < deadline, f"{text!r} never logged:\n{self.tail()}"
            await asyncio.sleep(0.1)

    async def metrics(self) -> str:
        async with httpx.AsyncClient() as client:
            return (await client.get(f"http://127.0.0.1:{self.port}/metrics")).text


@pytest.fixture
def start_aggregator(
    topics: Topics, tmp_path: Path
) -> Iterator[Callable[..., Awaitable[AggregatorProcess]]]:
    started: list[AggregatorProcess] = []

    async def _start(**env: str) -> AggregatorProcess:
        port = free_port()
        log = tmp_path / f"aggregator-{len(started)}.log"
        full_env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": KAFKA,
            "KAFKA_TOPIC": topics.name,
            "KAFKA_DLQ_TOPIC": topics.dlq,
            "KAFKA_GROUP_ID": topics.group,
            "FIRESTORE_PROJECT": PROJECT,
            "FIRESTORE_EMULATOR_HOST": FIRESTORE_HOST,
            "METRICS_PORT": str(port),
            **env,
        }
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "aggregator"], env=full_env, stdout=out, stderr=out
            )
        agg = AggregatorProcess(proc, port, log)
        started.append(agg)
        deadline = time.monotonic() + READY_TIMEOUT
        async with httpx.AsyncClient() as client:
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"aggregator exited with {proc.returncode}:\n{agg.tail()}")
                try:
                    if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                        return agg
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"aggregator not ready after {READY_TIMEOUT}s:\n{agg.tail()}")
                await asyncio.sleep(0.2)

    yield _start
    for agg in started:
        if agg.proc.poll() is None:
            agg.proc.kill()
            agg.proc.wait(10)


@pytest.fixture
def chat_ids() -> Callable[[int], list[str]]:
    def _make(n: int) -> list[str]:
        return [str(uuid.uuid4()) for _ in range(n)]

    return _make


@pytest.fixture(scope="session")
def sync_firestore(firestore: AsyncClient) -> Iterator[Any]:
    """A synchronous client, for snapshot listeners (the async client has none)."""
    client = firestore_client(PROJECT, FIRESTORE_HOST)
    yield client
    client.close()


@pytest.fixture
async def group_offsets(kafka_admin: AIOKafkaAdminClient, topics: Topics) -> Any:
    """Committed offsets and end offsets of the test's topic, summed over partitions."""

    async def _read() -> tuple[int, int]:
        committed = await kafka_admin.list_consumer_group_offsets(topics.group)
        done = sum(m.offset for m in committed.values() if m.offset > 0)
        consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA)
        await consumer.start()
        try:
            tps = [TopicPartition(topics.name, p) for p in range(4)]
            ends = await consumer.end_offsets(tps)
        finally:
            await consumer.stop()
        return done, sum(ends.values())

    return _read


@pytest.fixture
def all_committed(group_offsets: Any) -> Callable[..., Awaitable[tuple[int, int]]]:
    """Wait until the group has committed every record produced so far; return both sums.

    A record's offset is committed only once its message is in Firestore (or it is on the
    dead-letter topic), so this is the event "everything produced has been dealt with".
    """

    async def _wait(timeout: float = 30.0) -> tuple[int, int]:
        deadline = time.monotonic() + timeout
        while True:
            committed, end = await group_offsets()
            if committed == end or time.monotonic() > deadline:
                return committed, end
            await asyncio.sleep(0.2)

    return _wait
