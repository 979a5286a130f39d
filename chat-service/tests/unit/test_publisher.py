"""The publisher's recovery rules, with a stand-in for aiokafka's producer: a producer whose
sender died is replaced, and `publish` returns within its bound whatever Kafka does."""

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from chat_service.domain.model import Message, OutboxEntry
from chat_service.domain.timeuuids import new_message_id
from chat_service.outbox import publisher as events
from chat_service.outbox.publisher import EventPublisher, KafkaUnavailable

REQUEST_TIMEOUT_MS = 1000


class FakeSender:
    def __init__(self) -> None:
        self.sender_task: asyncio.Future[None] = asyncio.get_running_loop().create_future()


class FakeProducer:
    """What EventPublisher uses of AIOKafkaProducer; `acks` decides each send's fate."""

    made: list["FakeProducer"] = []
    acks = "yes"  # "yes", "never" (Kafka silent) or "die" (the sender dies on send)

    def __init__(self, **_: Any) -> None:
        self._sender = FakeSender()
        self.stopped = False
        FakeProducer.made.append(self)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self.stopped = True

    async def send(self, topic: str, value: bytes, key: bytes) -> "asyncio.Future[object]":
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        if FakeProducer.acks == "yes":
            future.set_result(object())
        elif FakeProducer.acks == "die":
            # What aiokafka does on OutOfOrderSequenceNumber: the sender task ends with
            # the error and every pending batch fails with it.
            error = RuntimeError("OutOfOrderSequenceNumber")
            self._sender.sender_task.set_exception(error)
            self._sender.sender_task.exception()  # retrieved: no "never retrieved" warning
            future.set_exception(error)
        return future


@pytest.fixture
def fake_producer(monkeypatch: pytest.MonkeyPatch) -> type[FakeProducer]:
    FakeProducer.made = []
    FakeProducer.acks = "yes"
    monkeypatch.setattr(events, "AIOKafkaProducer", FakeProducer)
    return FakeProducer


def entries(count: int) -> list[OutboxEntry]:
    chat, sender, recipient = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    made = datetime(2024, 1, 1, tzinfo=UTC)
    return [
        OutboxEntry(
            new_message_id(),
            Message(id=new_message_id(), chat_id=chat, sender_id=sender, text=f"m{n}"),
            0,
            recipient,
            made,
        )
        for n in range(count)
    ]


async def test_a_producer_whose_sender_died_is_replaced(fake_producer: type[FakeProducer]) -> None:
    publisher = EventPublisher("kafka:9092", "chat-messages", REQUEST_TIMEOUT_MS)
    await publisher.ensure_started()
    fake_producer.acks = "die"
    assert await publisher.publish(entries(2)) == [False, False]
    first = fake_producer.made[0]
    assert first.stopped and not publisher.started
    with pytest.raises(KafkaUnavailable):
        await publisher.check()
    fake_producer.acks = "yes"
    await publisher.ensure_started()
    assert len(fake_producer.made) == 2 and publisher.started
    assert await publisher.publish(entries(2)) == [True, True]


async def test_publish_returns_within_its_bound_when_kafka_never_answers(
    fake_producer: type[FakeProducer],
) -> None:
    publisher = EventPublisher("kafka:9092", "chat-messages", REQUEST_TIMEOUT_MS)
    await publisher.ensure_started()
    fake_producer.acks = "never"
    outcomes = await asyncio.wait_for(
        publisher.publish(entries(3)), timeout=10 * REQUEST_TIMEOUT_MS / 1000
    )
    assert outcomes == [False, False, False]
    # A silent Kafka is not a dead sender: the producer is kept.
    assert publisher.started and len(fake_producer.made) == 1
