"""In-memory stand-ins for the outbox's Cassandra queries and for Kafka, for the unit
tests of the fast path and the sweeper."""

import asyncio
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from cassandra.util import uuid_from_time

from chat_common.contract.times import unix_micros
from chat_service.domain.errors import StoreUnavailable
from chat_service.domain.model import Message, OutboxEntry
from chat_service.outbox.publisher import KafkaUnavailable
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
    """Kafka that acknowledges (or refuses) every event; `reachable=False`: Kafka down."""

    def __init__(self, acknowledges: bool = True, reachable: bool = True) -> None:
        self.acknowledges = acknowledges
        self.reachable = reachable
        self.published: list[uuid.UUID] = []

    @property
    def started(self) -> bool:
        return self.reachable

    async def ensure_started(self) -> None:
        if not self.reachable:
            raise KafkaUnavailable("Kafka is down")

    async def publish(self, entries: Sequence[OutboxEntry]) -> list[bool]:
        if self.acknowledges:
            self.published.extend(e.message.id for e in entries)
        return [self.acknowledges] * len(entries)


def entry(age: timedelta = timedelta(0), chat_id: uuid.UUID | None = None) -> OutboxEntry:
    """An outbox entry written `age` ago."""
    made = uuid_from_time(datetime.now(UTC) - age)
    message = Message(id=made, chat_id=chat_id or uuid.uuid4(), sender_id=uuid.uuid4(), text="hi")
    return OutboxEntry(made, message, 0, uuid.uuid4(), datetime(2024, 1, 1, tzinfo=UTC))


def since(age: timedelta) -> dict[int, datetime]:
    """A watermark of `age` ago for every shard."""
    start = datetime.now(UTC) - age
    return dict.fromkeys(range(OUTBOX_SHARDS), start)
