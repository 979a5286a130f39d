"""A record that cannot be dead-lettered is never passed, even at the head of a partition.

The dead-letter topic is made to refuse it (a `max.message.bytes` smaller than the record:
the broker answers at once), so the failure is real, and then to accept it again.
"""

import asyncio
import time
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from prometheus_client import REGISTRY

from chat_common.store_access import KafkaAccessSettings, kafka_client_kwargs

KAFKA = "127.0.0.1:9092"
# As the local `tests` Kafka user: its credentials come in the environment (infra/run-tests.sh).
ACCESS = kafka_client_kwargs(KafkaAccessSettings())


async def max_message_bytes(admin: AIOKafkaAdminClient, topic: str, value: int) -> None:
    resource = ConfigResource(
        ConfigResourceType.TOPIC, topic, configs={"max.message.bytes": str(value)}
    )
    await admin.alter_configs([resource])


def dead_letter_failures(topics: Any) -> float:
    labels = {"group": topics.group, "topic": topics.name}
    return REGISTRY.get_sample_value("chat_dead_letter_failures_total", labels) or 0.0


async def test_a_record_that_cannot_be_dead_lettered_holds_its_partition_until_it_can(
    events: Any,
    topics: Any,
    kafka_admin: AIOKafkaAdminClient,
    run_in_process: Any,
    batches: Any,
    chat_ids: Any,
    group_offsets: Any,
    all_committed: Any,
) -> None:
    (chat,) = chat_ids(1)
    await max_message_bytes(kafka_admin, topics.dlq, 100)
    poison = b"not json " + b"x" * 500  # the first record of its partition: the head
    await events.send_raw(chat, poison)
    await events.send(chat, "alice", "behind the poison")
    await events.flush()

    failures_before = dead_letter_failures(topics)
    await run_in_process()
    # The event: the dead-letter produce was refused, and refused again on the refetch.
    deadline = time.monotonic() + 30
    while dead_letter_failures(topics) < failures_before + 2:
        assert time.monotonic() < deadline, "the dead-letter topic was never tried twice"
        await asyncio.sleep(0.1)
    assert await group_offsets() == (0, 2), "committed past a record not dead-lettered"
    assert await batches.read([chat]) == [], "a message behind it was passed"

    await max_message_bytes(kafka_admin, topics.dlq, 1_048_588)  # the topic accepts it
    assert await all_committed() == (2, 2)
    docs = await batches.read([chat])
    assert set(batches.id_counts(docs)) == events.ids

    dlq = AIOKafkaConsumer(
        topics.dlq,
        bootstrap_servers=KAFKA,
        auto_offset_reset="earliest",
        group_id=None,
        **ACCESS,
    )
    await dlq.start()
    try:
        batch = await dlq.getmany(timeout_ms=5000)
    finally:
        await dlq.stop()
    assert [r.value for records in batch.values() for r in records] == [poison]
