"""Real Kafka (127.0.0.1:9092) and the Firestore emulator (127.0.0.1:8080); no fakes.

Every test gets its own topic, consumer group and chat ids, so runs repeat cleanly against
the long-running servers and never see another test's (or another team's) data.
"""

from __future__ import annotations

import asyncio
import os
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
from aggregator_process import AggregatorProcess, free_port
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from event_sender import EventSender
from google.cloud.firestore import AsyncClient

from aggregator.aggregation import AggregationConfig
from aggregator.config import Settings
from aggregator.main import consume_loop
from aggregator.projection import AggregatorProjection
from aggregator.sink import FirestoreSink
from chat_common.consume.dead_letters import KafkaDeadLetterSink
from chat_common.consume.loop import ConsumeLoop
from chat_common.contract.firestore import async_firestore_client, firestore_client
from chat_common.store_access import KafkaAccessSettings, kafka_client_kwargs
from chat_common.waiting import wait_until_ready

KAFKA = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
# As the local `tests` Kafka user: its credentials come in the environment (infra/run-tests.sh).
ACCESS = kafka_client_kwargs(KafkaAccessSettings())
FIRESTORE_HOST = os.environ.get("FIRESTORE_EMULATOR_HOST", "127.0.0.1:8080")
PROJECT = os.environ.get("FIRESTORE_PROJECT", "demo-chat")
READY_TIMEOUT = 60.0


@pytest.fixture(scope="session")
async def kafka_admin() -> AsyncIterator[AIOKafkaAdminClient]:
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA, request_timeout_ms=10_000, **ACCESS)

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
    prod = AIOKafkaProducer(bootstrap_servers=KAFKA, acks="all", linger_ms=5, **ACCESS)
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
        """Poll until every expected id is written, or until `timeout` seconds pass with no
        new one written; return the docs. The bound is on a stall, not on the whole wait: a
        backlog drained slowly on a busy machine still arrives, a stuck aggregator fails."""
        deadline = time.monotonic() + timeout
        written = 0
        while True:
            docs = await self.read(chat_ids)
            seen = expected & set(self.id_counts(docs))
            if seen == expected or time.monotonic() > deadline:
                return docs
            if len(seen) > written:
                written, deadline = len(seen), time.monotonic() + timeout
            await asyncio.sleep(0.3)

    @staticmethod
    def id_counts(docs: list[dict[str, Any]]) -> Counter[str]:
        return Counter(m["id"] for d in docs for m in d["messages"])


@pytest.fixture
def batches(firestore: AsyncClient) -> Batches:
    return Batches(firestore)


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


RunInProcess = Callable[..., Awaitable[ConsumeLoop]]


@pytest.fixture
async def run_in_process(topics: Topics) -> AsyncIterator[RunInProcess]:
    """Runs the aggregator's consume loop in this process on the test's topics, with a
    short window, writing to Firestore at `emulator_host`; stops it and its clients after."""
    started: list[tuple[ConsumeLoop, asyncio.Task[None], AsyncClient, KafkaDeadLetterSink]] = []

    async def _start(emulator_host: str = FIRESTORE_HOST) -> ConsumeLoop:
        client = async_firestore_client(PROJECT, emulator_host)
        settings = Settings(
            KAFKA_BOOTSTRAP_SERVERS=KAFKA,
            KAFKA_TOPIC=topics.name,
            KAFKA_DLQ_TOPIC=topics.dlq,
            KAFKA_GROUP_ID=topics.group,
        )
        projection = AggregatorProjection(
            FirestoreSink(client, 3600), AggregationConfig(window_ms=300, lateness_ms=50)
        )
        dead_letters = KafkaDeadLetterSink(KAFKA, settings)
        loop = consume_loop(settings, projection, dead_letters)
        started.append((loop, asyncio.create_task(loop.run()), client, dead_letters))
        return loop

    yield _start
    for loop, task, client, dead_letters in started:
        loop.stop()
        await asyncio.wait_for(task, 15)
        await dead_letters.close()
        client.close()


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
        consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA, **ACCESS)
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
