"""The aggregator as a projection, with a sink in memory and the real offset ledger: what
it decodes, what it holds until written, and what it keeps uncommitted while open."""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import ConsumerRecord, TopicPartition

from aggregator.aggregation import AggregationConfig, CompletedGroup
from aggregator.projection import AggregatorProjection
from aggregator.sink import FlushResult, SinkUnavailable
from chat_common.consume.ledger import OffsetLedger
from chat_common.consume.projection import Ledger, Poison
from chat_common.contract.events import ChatRead, MessageCreated
from chat_common.contract.times import min_time_uuid

PARTITION = TopicPartition("chat-messages", 0)
CHAT, ALICE, BOB = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


class MemorySink:
    """The Firestore sink in memory; `down` refuses every write."""

    def __init__(self) -> None:
        self.groups: list[CompletedGroup] = []
        self.down = False

    async def write(self, groups: Sequence[CompletedGroup]) -> FlushResult:
        if self.down:
            raise SinkUnavailable("Firestore is down")
        self.groups += groups
        messages = tuple(m for g in groups for m in g.messages)
        return FlushResult(len(groups), len(messages), messages)


class Clock:
    def __init__(self) -> None:
        self.now = NOW.timestamp()

    def __call__(self) -> float:
        return self.now


def record(offset: int, value: bytes) -> ConsumerRecord:
    return ConsumerRecord(
        "chat-messages", 0, offset, 0, 0, str(CHAT).encode(), value, None, 0, len(value), ()
    )


def sent(at: datetime, text: str = "hi") -> bytes:
    return MessageCreated.of(min_time_uuid(at), CHAT, ALICE, (ALICE, BOB), text).encode()


def setup() -> tuple[AggregatorProjection, MemorySink, Ledger, Clock]:
    sink, clock = MemorySink(), Clock()
    config = AggregationConfig(window_ms=1000, lateness_ms=0)
    projection = AggregatorProjection(sink, config, clock=clock)  # type: ignore[arg-type]
    ledger: Ledger = OffsetLedger()
    ledger.assign(PARTITION)
    ledger.handled(PARTITION, -1)
    projection.assigned([PARTITION])
    return projection, sink, ledger, clock


def test_poison_and_what_is_nothing_to_the_aggregator() -> None:
    projection, *_ = setup()
    with pytest.raises(Poison):
        projection.decode(record(0, b"not json"))
    with pytest.raises(Poison, match="ahead of the clock"):
        projection.decode(record(0, sent(NOW + timedelta(hours=1))))
    read = ChatRead(
        chat_id=CHAT, user_id=BOB, members=(ALICE, BOB), up_to=min_time_uuid(NOW), read_at=NOW
    )
    assert projection.decode(record(0, read.encode())) is None


async def test_a_burst_is_held_open_then_written_as_one_group_and_committed() -> None:
    projection, sink, ledger, clock = setup()
    values = [
        sent(NOW),
        sent(NOW + timedelta(milliseconds=100)),
        sent(NOW + timedelta(milliseconds=200)),
    ]
    items = [
        (offset, projection.decode(record(offset, value))) for offset, value in enumerate(values)
    ]
    await projection.apply(PARTITION, items, ledger)
    for offset, _ in items:
        ledger.handled(PARTITION, offset)
    # The first went out eagerly (held until written); the rest are open in their window.
    await projection.flush(ledger, force=False)
    assert [len(group.messages) for group in sink.groups] == [1]
    low = projection.open_low(PARTITION)
    assert low == 1 and ledger.positions({PARTITION: low}) == {PARTITION: 1}
    clock.now += 2.0  # the window passed
    await projection.flush(ledger, force=False)
    assert [len(group.messages) for group in sink.groups] == [1, 2]
    assert projection.open_low(PARTITION) is None
    assert ledger.positions({PARTITION: None}) == {PARTITION: 3}


async def test_a_failed_write_keeps_the_group_held_and_a_forced_completion_empties_it() -> None:
    projection, sink, ledger, _ = setup()
    items = [(0, projection.decode(record(0, sent(NOW))))]
    await projection.apply(PARTITION, items, ledger)
    ledger.handled(PARTITION, 0)
    sink.down = True
    with pytest.raises(SinkUnavailable):
        await projection.flush(ledger, force=True)
    assert ledger.positions({PARTITION: None}) == {PARTITION: 0}
    assert projection.backlog(ledger) == 1
    sink.down = False
    projection.complete([PARTITION], ledger, stopping=True)
    await projection.flush(ledger, force=True)
    assert ledger.positions({PARTITION: None}) == {PARTITION: 1}
