"""The fast path with fakes for Cassandra and Kafka: what it announces, writes back, and
leaves to the sweeper."""

import asyncio
import contextlib
import uuid
from datetime import timedelta

from outbox_fakes import WAIT, FakePublisher, FakeRepository, entry

from chat_service.domain.model import OutboxEntry
from chat_service.outbox.fast_path import FastPath, latest_per_chat


async def stop(relay: FastPath, task: "asyncio.Task[None]") -> None:
    """Stop the loop as the lifespan does: stop, then cancel."""
    relay.stop()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def notify_until_acked(
    relay: FastPath, repository: FakeRepository, sent: OutboxEntry
) -> None:
    """Run the fast path, hand it `sent`, and stop it once acks are recorded."""
    task = asyncio.create_task(relay.run())
    relay.notify(sent)
    try:
        await asyncio.wait_for(repository.acks_recorded.wait(), WAIT)
    finally:
        await stop(relay, task)


async def test_fast_path_announces_touches_and_records_the_ack() -> None:
    repository, publisher = FakeRepository(), FakePublisher()
    relay = FastPath(repository, publisher)
    sent = entry()
    await notify_until_acked(relay, repository, sent)
    assert publisher.published == [sent.message.id]
    assert repository.acked == [sent.entry_id]
    assert repository.touched == [sent]
    assert repository.repaired == []


async def test_with_kafka_down_an_entry_is_left_to_the_sweeper() -> None:
    repository, publisher = FakeRepository(), FakePublisher(reachable=False)
    relay = FastPath(repository, publisher)
    relay.notify(entry())
    publisher.reachable = True
    sent = entry()
    await notify_until_acked(relay, repository, sent)
    # Only what came once Kafka answered: the first stays in the outbox for the sweeper.
    assert publisher.published == [sent.message.id]
    assert repository.acked == [sent.entry_id]


async def test_inbox_activity_and_acks_are_written_once_per_flush() -> None:
    repository, publisher = FakeRepository(), FakePublisher()
    relay = FastPath(repository, publisher)
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
    relay = FastPath(repository, publisher)
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


def test_latest_per_chat_keeps_each_chats_newest_entry() -> None:
    chat_a, chat_b = uuid.uuid4(), uuid.uuid4()
    older, newer = entry(timedelta(seconds=5), chat_a), entry(timedelta(seconds=1), chat_a)
    other = entry(timedelta(seconds=3), chat_b)
    assert sorted(latest_per_chat([newer, other, older]), key=id) == sorted([newer, other], key=id)
    assert latest_per_chat([]) == []
