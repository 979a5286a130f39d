"""Kafka (KRaft, one node) does what the chat services rely on, through aiokafka.

Produce with acks=all and idempotence, consume in a group with manual commits, and a new
consumer in the same group resumes from the committed offset. Every test uses its own
topic and group, so the suite can run again and again against a long-running broker.
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from chat_common.store_access import KafkaAccessSettings, kafka_client_kwargs
from chat_common.waiting import wait_until_ready

BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
# As the local `tests` Kafka user: its credentials come in the environment (infra/run-tests.sh).
ACCESS = kafka_client_kwargs(KafkaAccessSettings())
TOPIC_PARTITIONS = 3


async def _describe_cluster() -> dict[str, object]:
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP, request_timeout_ms=5000, **ACCESS)
    try:
        await admin.start()
        return await admin.describe_cluster()
    finally:
        await admin.close()


@pytest.fixture(scope="session")
async def cluster(
    server_ready: Callable[[Callable[[], Awaitable[object]], str, str], Awaitable[None]],
) -> dict[str, object]:
    """The broker's metadata, once it answers (bounded wait)."""
    await server_ready(_describe_cluster, "kafka", f"Kafka metadata at {BOOTSTRAP}")
    return await _describe_cluster()


@pytest.fixture
async def admin(cluster: dict[str, object]) -> AsyncIterator[AIOKafkaAdminClient]:
    client = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP, **ACCESS)
    await client.start()
    yield client
    await client.close()


async def _wait_for_topic(admin: AIOKafkaAdminClient, name: str, partitions: int) -> None:
    """Until the broker's metadata shows `name` with every partition led (bounded).

    CreateTopics returns once the controller has the topic; the broker's metadata cache
    catches up a moment later, and a describe or a consumer in that moment sees
    UNKNOWN_TOPIC_OR_PARTITION.
    """

    async def described() -> None:
        (topic,) = await admin.describe_topics([name])
        led = [p for p in topic["partitions"] if p["leader"] >= 0]
        if topic["error_code"] != 0 or len(led) != partitions:
            raise LookupError(f"topic {name}: error {topic['error_code']}, {len(led)} led")

    await wait_until_ready(described, f"topic {name} in the metadata", timeout=30, interval=0.1)


@pytest.fixture
async def topic(admin: AIOKafkaAdminClient) -> AsyncIterator[str]:
    """A fresh, uniquely named topic with 3 partitions, deleted afterwards."""
    name = f"smoke-{uuid.uuid4().hex[:12]}"
    response = await admin.create_topics(
        [NewTopic(name=name, num_partitions=TOPIC_PARTITIONS, replication_factor=1)]
    )
    errors = [(t[0], t[1]) for t in response.topic_errors if t[1] != 0]
    assert not errors, f"CreateTopics failed: {errors}"
    await _wait_for_topic(admin, name, TOPIC_PARTITIONS)
    yield name
    await admin.delete_topics([name])


async def _consume(consumer: AIOKafkaConsumer, count: int) -> list[tuple[bytes, int, int]]:
    """Read exactly `count` records as (value, partition, offset), bounded in time."""
    records: list[tuple[bytes, int, int]] = []
    async with asyncio.timeout(30):
        while len(records) < count:
            batch = await consumer.getmany(timeout_ms=500, max_records=count - len(records))
            for tp_records in batch.values():
                records.extend((r.value, r.partition, r.offset) for r in tp_records)
    return records


def _consumer(topic: str, group: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        topic,
        bootstrap_servers=BOOTSTRAP,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **ACCESS,
    )


async def test_single_node_cluster_metadata(cluster: dict[str, object]) -> None:
    brokers = cluster["brokers"]
    assert isinstance(brokers, list)
    host, port = BOOTSTRAP.split(",")[0].rsplit(":", 1)
    # One broker, advertising the address we bootstrapped from (not a container name).
    assert [(b["host"], b["port"]) for b in brokers] == [(host, int(port))]
    assert cluster["controller_id"] == brokers[0]["node_id"]


async def test_topic_gets_the_requested_partitions(admin: AIOKafkaAdminClient, topic: str) -> None:
    (described,) = await admin.describe_topics([topic])
    assert described["error_code"] == 0
    assert sorted(p["partition"] for p in described["partitions"]) == [0, 1, 2]


async def test_consumer_group_resumes_from_committed_offset(topic: str) -> None:
    # One key, so every record lands in one partition and the order is the send order.
    key = b"chat-1"
    values = [f"message {i}".encode() for i in range(10)]
    producer = AIOKafkaProducer(
        bootstrap_servers=BOOTSTRAP, acks="all", enable_idempotence=True, **ACCESS
    )
    await producer.start()
    try:
        metadata = [await producer.send_and_wait(topic, v, key=key) for v in values]
    finally:
        await producer.stop()
    partition = metadata[0].partition
    assert {m.partition for m in metadata} == {partition}
    assert [m.offset for m in metadata] == list(range(len(values)))

    group = f"smoke-group-{uuid.uuid4().hex[:12]}"
    first = _consumer(topic, group)
    await first.start()
    try:
        head = await _consume(first, 4)
        assert [v for v, _, _ in head] == values[:4]
        # Commit the next offset to read (last processed + 1), as the aggregator does.
        tp = TopicPartition(topic, partition)
        await first.commit({tp: head[-1][2] + 1})
        assert await first.committed(tp) == 4
    finally:
        await first.stop()

    second = _consumer(topic, group)
    await second.start()
    try:
        rest = await _consume(second, len(values) - 4)
        assert [v for v, _, _ in rest] == values[4:]
        assert [offset for _, _, offset in rest] == list(range(4, len(values)))
    finally:
        await second.stop()
