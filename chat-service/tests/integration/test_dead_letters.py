"""Each of chat-worker's consumer groups parks a record it cannot handle on its topic's
dead-letter topic, with the error and the group in headers, and goes on past it.

A worker runs in-process on topics of the test's own (so the running services never see
its poison), on real Kafka, Cassandra and the Firestore emulator.
"""

import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any, NamedTuple

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from prometheus_client import REGISTRY

from chat_common.contract.events import UserDeleted
from chat_common.store_access import kafka_client_kwargs
from chat_common.waiting import wait_until
from chat_service.config import Settings

WAIT = 60.0


class Topics(NamedTuple):
    chats: str
    chats_dlq: str
    users: str
    users_dlq: str


@pytest.fixture
async def topics(settings: Settings) -> AsyncIterator[Topics]:
    stem = f"dlq-test-{uuid.uuid4().hex[:10]}"
    names = Topics(f"{stem}-chats", f"{stem}-chats-dlq", f"{stem}-users", f"{stem}-users-dlq")
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS, **kafka_client_kwargs(settings)
    )
    await admin.start()
    try:
        await admin.create_topics([NewTopic(n, 1, replication_factor=1) for n in names])
        yield names
        await admin.delete_topics(list(names))
    finally:
        await admin.close()


async def produce(settings: Settings, topic: str, *values: bytes) -> list[int]:
    """Produce `values` in order; their offsets."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS, **kafka_client_kwargs(settings)
    )
    await producer.start()
    try:
        return [(await producer.send_and_wait(topic, value, key=b"k")).offset for value in values]
    finally:
        await producer.stop()


async def read_all(settings: Settings, topic: str) -> list[ConsumerRecord]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS,
        auto_offset_reset="earliest",
        **kafka_client_kwargs(settings),
    )
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=2000)
    finally:
        await consumer.stop()
    return [record for records in batches.values() for record in records]


async def committed(settings: Settings, group: str, topic: str) -> int:
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS, **kafka_client_kwargs(settings)
    )
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return sum(meta.offset for tp, meta in offsets.items() if tp.topic == topic)


def dead_letters(group: str, topic: str) -> float:
    labels = {"group": group, "topic": topic}
    return REGISTRY.get_sample_value("chat_dead_letters_total", labels) or 0.0


async def test_each_consumer_group_dead_letters_poison_and_goes_on(
    settings: Settings,
    topics: Topics,
    worker_factory: Callable[..., Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    inbox_group = f"dlq-inbox-{uuid.uuid4().hex[:8]}"
    erase_group = f"dlq-erase-{uuid.uuid4().hex[:8]}"
    deleted = UserDeleted(user_id=uuid.uuid4(), deleted_at=datetime.now(UTC)).encode()
    # Poison first, a valid record behind it: the partition must flow past the poison.
    users_poison, _ = await produce(settings, topics.users, b"not a user event", deleted)
    overrides = {
        "KAFKA_TOPIC": topics.chats,
        "KAFKA_DLQ_TOPIC": topics.chats_dlq,
        "INBOX_GROUP_ID": inbox_group,
        "USER_EVENTS_TOPIC": topics.users,
        "USER_EVENTS_DLQ_TOPIC": topics.users_dlq,
        "USER_EVENTS_GROUP_ID": erase_group,
        "DLQ_AFTER_FAILURES": 2,
    }
    async with worker_factory(**overrides) as (worker, _):
        # The inbox group starts at the end of its topic: poison it once it listens.
        await wait_until(
            lambda: _true(worker.state.inbox.assigned.is_set()), "inbox assigned", WAIT
        )
        opened = {
            "v": 2,
            "type": "chat.created",
            "chat_id": str(uuid.uuid4()),
            "members": [str(uuid.uuid4()), str(uuid.uuid4())],
            "created_at": "2026-12-07T12:00:00.000Z",
        }
        # The worker's outbox sweeper may announce earlier tests' entries on this topic too,
        # so the poison's offset is whatever Kafka gave it.
        chats_poison, _ = await produce(
            settings, topics.chats, b'{"v": 2, "type": "no.such"}', _json(opened)
        )

        async def both_passed() -> bool:
            return (
                await committed(settings, inbox_group, topics.chats) >= chats_poison + 2
                and await committed(settings, erase_group, topics.users) >= users_poison + 2
            )

        await wait_until(both_passed, "both groups committed past their poison", WAIT)

    for dlq, poison, group, source, offset in (
        (topics.chats_dlq, b'{"v": 2, "type": "no.such"}', inbox_group, topics.chats, chats_poison),
        (topics.users_dlq, b"not a user event", erase_group, topics.users, users_poison),
    ):
        (parked,) = await read_all(settings, dlq)
        headers = dict(parked.headers)
        assert parked.value == poison
        assert headers["group"] == group.encode()
        assert headers["source"] == f"{source}/0/{offset}".encode()
        assert headers["attempts"] == b"2"
        assert headers["error"]
        assert dead_letters(group, source) == 1.0
    # Never quiet: a dead-lettered user event is an error in the log (JSON lines).
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line[:1] == "{"]
    assert any(
        line["level"] == "ERROR"
        and erase_group in line["message"]
        and topics.users_dlq in line["message"]
        for line in lines
    )


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value).encode()


async def _true(value: bool) -> bool:
    return value
