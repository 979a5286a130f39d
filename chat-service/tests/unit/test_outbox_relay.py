"""The relay's rules with fakes for Cassandra and Kafka: what is announced and cleared when."""

import asyncio
import contextlib
import uuid
from collections.abc import Sequence
from datetime import datetime

from chat_service.exceptions import StoreUnavailable
from chat_service.models import Message
from chat_service.outbox import OutboxRelay
from chat_service.timeuuids import new_message_id


class FakeRepository:
    def __init__(self, sweep_fails: bool = False) -> None:
        self.sweep_fails = sweep_fails
        self.pending: list[Message] = []
        self.deleted: list[uuid.UUID] = []

    async def pending_outbox(self, shard: int, after: datetime, limit: int) -> list[Message]:
        if self.sweep_fails:
            raise StoreUnavailable("Read 100001 tombstones (TombstoneOverwhelmingException)")
        return [m for m in self.pending if m.id not in self.deleted][:limit] if shard == 0 else []

    async def delete_outbox(self, message: Message) -> None:
        self.deleted.append(message.id)


class FakePublisher:
    def __init__(self) -> None:
        self.published: list[uuid.UUID] = []
        self.started = True

    async def ensure_started(self) -> None:
        return None

    async def publish(self, messages: Sequence[Message]) -> list[bool]:
        self.published.extend(m.id for m in messages)
        return [True] * len(messages)


def message() -> Message:
    return Message(id=new_message_id(), chat_id=uuid.uuid4(), sender_id=uuid.uuid4(), text="hi")


async def run_briefly(relay: OutboxRelay, seconds: float = 0.3) -> None:
    """Run the relay's loop, then stop it as the lifespan does (stop, then cancel)."""
    task = asyncio.create_task(relay.run())
    await asyncio.sleep(seconds)
    relay.stop()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_fast_path_announces_then_clears() -> None:
    repository, publisher = FakeRepository(), FakePublisher()
    relay = OutboxRelay(repository, publisher, sweep_interval=60)  # type: ignore[arg-type]
    sent = message()
    relay.notify(sent)
    await run_briefly(relay)
    assert publisher.published == [sent.id]
    assert repository.deleted == [sent.id]


async def test_failing_sweep_does_not_hold_up_the_fast_path() -> None:
    repository, publisher = FakeRepository(sweep_fails=True), FakePublisher()
    relay = OutboxRelay(repository, publisher, sweep_interval=0.05)  # type: ignore[arg-type]
    sent = message()
    relay.notify(sent)
    await run_briefly(relay)
    assert publisher.published == [sent.id]
    assert repository.deleted == [sent.id]
