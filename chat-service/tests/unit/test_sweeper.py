"""The sweeper with fakes for Cassandra and Kafka: what is announced and repaired, how far
each shard's watermark moves, and how old the oldest unannounced entry is."""

from datetime import UTC, datetime, timedelta

import pytest
from outbox_fakes import FakePublisher, FakeRepository, entry, since

from chat_common.contract.times import uuid_time
from chat_service.outbox.publisher import KafkaUnavailable
from chat_service.outbox.sweeper import SWEEP_LAG, Sweeper, slots_between
from chat_service.store.outbox import outbox_shard


def sweeper(repository: FakeRepository, publisher: FakePublisher) -> Sweeper:
    return Sweeper(repository, publisher, interval=60)


async def test_sweep_announces_and_repairs_only_what_nobody_acknowledged() -> None:
    repository, publisher = FakeRepository(), FakePublisher()
    repository.watermarks = since(timedelta(minutes=2))
    lost, acknowledged = entry(timedelta(minutes=1)), entry(timedelta(minutes=1))
    repository.entries = [lost, acknowledged]
    repository.acked = [acknowledged.entry_id]
    assert await sweeper(repository, publisher).sweep() == 1
    assert publisher.published == [lost.message.id]
    assert repository.repaired == [lost.message.id]
    assert repository.touched == [lost]


async def test_sweep_leaves_young_entries_to_the_fast_path_then_moves_on() -> None:
    repository, publisher = FakeRepository(), FakePublisher()
    repository.watermarks = since(timedelta(minutes=2))
    young = entry(SWEEP_LAG / 2)
    repository.entries = [young]
    relay = sweeper(repository, publisher)
    assert await relay.sweep() == 0
    shard = outbox_shard(young.message.chat_id)
    assert repository.watermarks[shard] < uuid_time(young.entry_id)
    # A later sweep, once the entry is old enough, announces it exactly once.
    repository.watermarks = since(timedelta(minutes=2))
    relay = sweeper(repository, publisher)
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
    announced = await sweeper(repository, publisher).sweep()
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
        await sweeper(repository, publisher).sweep()
    shard = outbox_shard(waiting.message.chat_id)
    assert repository.watermarks[shard] == before[shard]


async def test_the_unannounced_age_grows_while_kafka_is_down_and_clears_after() -> None:
    repository, publisher = FakeRepository(), FakePublisher(reachable=False)
    repository.watermarks = since(timedelta(minutes=5))
    relay = sweeper(repository, publisher)
    assert relay.unannounced_age() == 0.0
    waiting = entry(timedelta(minutes=2))
    repository.entries = [waiting]
    with pytest.raises(KafkaUnavailable):
        await relay.sweep()
    age = relay.unannounced_age()
    expected = (datetime.now(UTC) - uuid_time(waiting.entry_id)).total_seconds()
    assert expected - 5 < age <= expected + 1
    publisher.reachable = True
    assert await relay.sweep() == 1
    assert relay.unannounced_age() == 0.0


def test_slots_between_covers_both_ends() -> None:
    start = datetime(2024, 1, 1, 0, 4, 59, tzinfo=UTC)
    end = datetime(2024, 1, 1, 0, 10, 1, tzinfo=UTC)
    slots = list(slots_between(start, end))
    assert slots == [
        int(datetime(2024, 1, 1, 0, minute, tzinfo=UTC).timestamp()) for minute in (0, 5, 10)
    ]
