"""The relay's rules with fakes for Cassandra and Kafka: what is announced, repaired,
acknowledged and how far each shard's watermark moves."""

import asyncio
import contextlib
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from cassandra.util import uuid_from_time

from chat_common.contract.times import unix_micros, uuid_time
from chat_service.domain.errors import StoreUnavailable
from chat_service.domain.model import Message, OutboxEntry
from chat_service.outbox.publisher import KafkaUnavailable
from chat_service.outbox.relay import SWEEP_LAG, OutboxRelay, latest_per_chat, slots_between
from chat_service.store.outbox import outbox_shard
from chat_service.store.schema import OUTBOX_SHARDS, OUTBOX_SLOT_SECONDS

WAIT = 5.0


class FakeRepository:
    """The outbox in memory, read with the same bounds as the real queries."""

    def __init__(self, failing_shards: frozenset[int] = frozenset()) -> None:
        self.failing_shards = failing_shards
        self.entries: list[OutboxEntry] = []
        self.acked: list[uuid.UUID] = []
        self.repaired: list[uuid.UUID] = []
        self.touched: list[OutboxEntry] = []
        self.watermarks: dict[int, datetime] = {}
        self.acks_recorded = asyncio.Event()
        # The relay reaches the outbox's queries as `repository.outbox`.
        self.outbox = self

    async def page(
        self, shard: int, slot: int, after: uuid.UUID, until: datetime, limit: int
    ) -> list[OutboxEntry]:
        if shard in self.failing_shards:
            raise StoreUnavailable("Read 100001 tombstones (TombstoneOverwhelmingException)")
        bound = int(until.timestamp() * 1_000_000)
        rows = [
            e
            for e in self.entries
            if outbox_shard(e.message.chat_id) == shard
            and slot <= unix_micros(e.entry_id) // 1_000_000 < slot + OUTBOX_SLOT_SECONDS
            and unix_micros(after) < unix_micros(e.entry_id) <= bound
        ]
        return sorted(rows, key=lambda e: unix_micros(e.entry_id))[:limit]

    async def acks(
        self, slot: int, after: uuid.UUID, until: datetime, limit: int
    ) -> list[uuid.UUID]:
        return [a for a in self.acked if unix_micros(after) < unix_micros(a)][:limit]

    async def record_acks(self, entry_ids: Sequence[uuid.UUID]) -> None:
        self.acked.extend(entry_ids)
        self.acks_recorded.set()

    async def repair_messages(self, entries: Sequence[OutboxEntry]) -> None:
        self.repaired.extend(entry.message.id for entry in entries)

    async def touch_chats(self, latest: list[OutboxEntry]) -> None:
        self.touched.extend(latest)

    async def get_watermark(self, shard: int) -> datetime | None:
        return self.watermarks.get(shard)

    async def set_watermark(self, shard: int, swept_to: datetime) -> None:
        self.watermarks[shard] = swept_to


class FakePublisher:
    def __init__(self, acknowledges: bool = True) -> None:
        self.acknowledges = acknowledges
        self.published: list[uuid.UUID] = []
        self.started = True

    async def ensure_started(self) -> None:
        return None

    async def publish(self, entries: Sequence[OutboxEntry]) -> list[bool]:
        if self.acknowledges:
            self.published.extend(e.message.id for e in entries)
        return [self.acknowledges] * len(entries)


def entry(age: timedelta = timedelta(0), chat_id: uuid.UUID | None = None) -> OutboxEntry:
    """An outbox entry written `age` ago."""
    made = uuid_from_time(datetime.now(UTC) - age)
    message = Message(id=made, chat_id=chat_id or uuid.uuid4(), sender_id=uuid.uuid4(), text="hi")
    return OutboxEntry(made, message, 0, uuid.uuid4(), datetime(2024, 1, 1, tzinfo=UTC))


def relay_over(
    repository: FakeRepository, publisher: FakePublisher, sweep_interval: float = 60
) -> OutboxRelay:
    relay = OutboxRelay(repository, publisher, sweep_interval)
    return relay


async def stop(relay: OutboxRelay, task: "asyncio.Task[None]") -> None:
    """Stop the relay's loop as the lifespan does: stop, then cancel."""
    relay.stop()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def notify_until_acked(
    relay: OutboxRelay, repository: FakeRepository, sent: OutboxEntry
) -> None:
    """Run the relay, hand it `sent` on the fast path, and stop it once acks are recorded."""
    task = asyncio.create_task(relay.run())
    relay.notify(sent)
    try:
        await asyncio.wait_for(repository.acks_recorded.wait(), WAIT)
    finally:
        await stop(relay, task)


def since(age: timedelta) -> dict[int, datetime]:
    start = datetime.now(UTC) - age
    return dict.fromkeys(range(OUTBOX_SHARDS), start)


async def test_fast_path_announces_touches_and_records_the_ack() -> None:
    repository, publisher = FakeRepository(), FakePublisher()
    repository.watermarks = since(timedelta(0))
    relay = relay_over(repository, publisher)
    sent = entry()
    await notify_until_acked(relay, repository, sent)
    assert publisher.published == [sent.message.id]
    assert repository.acked == [sent.entry_id]
    assert repository.touched == [sent]
    assert repository.repaired == []


async def test_sweep_announces_and_repairs_only_what_nobody_acknowledged() -> None:
    repository, publisher = FakeRepository(), FakePublisher()
    repository.watermarks = since(timedelta(minutes=2))
    lost, acknowledged = entry(timedelta(minutes=1)), entry(timedelta(minutes=1))
    repository.entries = [lost, acknowledged]
    repository.acked = [acknowledged.entry_id]
    assert await relay_over(repository, publisher).sweep() == 1
    assert publisher.published == [lost.message.id]
    assert repository.repaired == [lost.message.id]
    assert repository.touched == [lost]


async def test_sweep_leaves_young_entries_to_the_fast_path_then_moves_on() -> None:
    repository, publisher = FakeRepository(), FakePublisher()
    repository.watermarks = since(timedelta(minutes=2))
    young = entry(SWEEP_LAG / 2)
    repository.entries = [young]
    relay = relay_over(repository, publisher)
    assert await relay.sweep() == 0
    shard = outbox_shard(young.message.chat_id)
    assert repository.watermarks[shard] < uuid_time(young.entry_id)
    # A later sweep, once the entry is old enough, announces it exactly once.
    repository.watermarks = since(timedelta(minutes=2))
    relay = relay_over(repository, publisher)
    young_then = entry(SWEEP_LAG * 2)
    repository.entries = [young_then]
    assert await relay.sweep() == 1
    assert await relay.sweep() == 0
    assert publisher.published == [young_then.message.id]


async def test_a_failing_shard_keeps_its_watermark_and_the_others_are_swept() -> None:
    entries = [entry(timedelta(minutes=1)) for _ in range(40)]
    shards = {outbox_shard(e.message.chat_id) for e in entries}
    failing = min(shards)
    repository, publisher = FakeRepository(frozenset({failing})), FakePublisher()
    repository.watermarks = since(timedelta(minutes=2))
    before = dict(repository.watermarks)
    repository.entries = entries
    announced = await relay_over(repository, publisher).sweep()
    expected = [e.message.id for e in entries if outbox_shard(e.message.chat_id) != failing]
    assert announced == len(expected) > 0
    assert sorted(publisher.published) == sorted(expected)
    assert repository.watermarks[failing] == before[failing]
    assert all(repository.watermarks[s] > before[s] for s in shards - {failing})


async def test_kafka_refusing_stops_the_sweep_without_moving_the_watermark() -> None:
    repository, publisher = FakeRepository(), FakePublisher(acknowledges=False)
    repository.watermarks = since(timedelta(minutes=2))
    before = dict(repository.watermarks)
    waiting = entry(timedelta(minutes=1))
    repository.entries = [waiting]
    with pytest.raises(KafkaUnavailable):
        await relay_over(repository, publisher).sweep()
    shard = outbox_shard(waiting.message.chat_id)
    assert repository.watermarks[shard] == before[shard]


async def test_inbox_activity_and_acks_are_written_once_per_flush() -> None:
    repository, publisher = FakeRepository(), FakePublisher()
    relay = relay_over(repository, publisher)
    chat_a, chat_b = uuid.uuid4(), uuid.uuid4()
    burst = [entry(timedelta(milliseconds=9 - n), (chat_a, chat_b)[n % 2]) for n in range(10)]
    for first in range(0, 10, 3):  # published in several batches
        await relay._deliver(burst[first : first + 3])
    assert repository.touched == [] and repository.acked == []
    await relay.flush()
    # One write back per chat, with its newest message; every ack, once.
    assert sorted(repository.touched, key=id) == sorted(burst[-2:], key=id)
    assert sorted(repository.acked) == sorted(e.entry_id for e in burst)
    await relay.flush()
    assert len(repository.touched) == 2 and len(repository.acked) == 10


async def test_stop_ends_the_loop_and_writes_back_what_was_published() -> None:
    repository, publisher = FakeRepository(), FakePublisher()
    repository.watermarks = since(timedelta(0))
    relay = relay_over(repository, publisher)
    task = asyncio.create_task(relay.run())
    sent = entry()
    relay.notify(sent)
    await asyncio.wait_for(repository.acks_recorded.wait(), WAIT)  # first flush
    repository.acks_recorded.clear()
    later = entry()
    relay.notify(later)
    relay.stop()
    await asyncio.wait_for(task, WAIT)
    assert publisher.published == [sent.message.id, later.message.id]
    assert repository.acked == [sent.entry_id, later.entry_id]


async def test_a_failing_sweep_does_not_hold_up_the_fast_path() -> None:
    repository, publisher = FakeRepository(frozenset(range(OUTBOX_SHARDS))), FakePublisher()
    repository.watermarks = since(timedelta(minutes=2))
    relay = relay_over(repository, publisher, sweep_interval=0.01)
    sent = entry()
    await notify_until_acked(relay, repository, sent)
    assert publisher.published == [sent.message.id]


def test_latest_per_chat_keeps_each_chats_newest_entry() -> None:
    chat_a, chat_b = uuid.uuid4(), uuid.uuid4()
    older, newer = entry(timedelta(seconds=5), chat_a), entry(timedelta(seconds=1), chat_a)
    other = entry(timedelta(seconds=3), chat_b)
    assert sorted(latest_per_chat([newer, other, older]), key=id) == sorted([newer, other], key=id)
    assert latest_per_chat([]) == []


def test_slots_between_covers_both_ends() -> None:
    start = datetime(2024, 1, 1, 0, 4, 59, tzinfo=UTC)
    end = datetime(2024, 1, 1, 0, 10, 1, tzinfo=UTC)
    slots = list(slots_between(start, end))
    assert slots == [
        int(datetime(2024, 1, 1, 0, minute, tzinfo=UTC).timestamp()) for minute in (0, 5, 10)
    ]
