"""The outbox's own queries: entries, the fast path's acks, and each shard's watermark."""

import asyncio
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from cassandra.util import max_uuid_from_time

from chat_common.contract.times import uuid_time
from chat_service.domain.model import CHAT_CREATED, Chat, Message, OutboxEntry
from chat_service.store.cassandra import CassandraStore
from chat_service.store.rows import utc
from chat_service.store.schema import OUTBOX_SHARDS, OUTBOX_SLOT_SECONDS

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

OUTBOX_STATEMENTS: dict[str, str] = {
    "insert_outbox": (
        "INSERT INTO {keyspace}.message_outbox (shard, slot, entry_id, message_id, chat_id, "
        "sender_id, recipient_id, chat_created_at, bucket, text, kind, changed_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ),
    "select_outbox": (
        "SELECT entry_id, message_id, chat_id, sender_id, recipient_id, chat_created_at, "
        "bucket, text, kind, changed_at FROM {keyspace}.message_outbox "
        "WHERE shard = ? AND slot = ? AND entry_id > ? AND entry_id <= ? LIMIT ?"
    ),
    # A deleted message's entries, found in one slot partition (filtering within it only).
    "select_outbox_of_message": (
        "SELECT entry_id FROM {keyspace}.message_outbox "
        "WHERE shard = ? AND slot = ? AND message_id = ? ALLOW FILTERING"
    ),
    # A chat's creation entry: made just after the chat row, in its slot or the next.
    "select_creation_entry": (
        "SELECT entry_id FROM {keyspace}.message_outbox "
        "WHERE shard = ? AND slot = ? AND chat_id = ? AND kind = ? LIMIT 1 ALLOW FILTERING"
    ),
    "forget_outbox_text": (
        "UPDATE {keyspace}.message_outbox SET text = null "
        "WHERE shard = ? AND slot = ? AND entry_id = ?"
    ),
    "insert_ack": "INSERT INTO {keyspace}.outbox_ack (slot, entry_id) VALUES (?, ?)",
    "select_acks": (
        "SELECT entry_id FROM {keyspace}.outbox_ack WHERE slot = ? AND entry_id > ? "
        "AND entry_id <= ? LIMIT ?"
    ),
    "select_watermark": "SELECT swept_to FROM {keyspace}.outbox_watermark WHERE shard = ?",
    "update_watermark": "UPDATE {keyspace}.outbox_watermark SET swept_to = ? WHERE shard = ?",
}


def outbox_shard(chat_id: uuid.UUID) -> int:
    """The outbox shard of a chat's messages."""
    return chat_id.int % OUTBOX_SHARDS


def outbox_slot(instant: datetime) -> int:
    """Start (Unix seconds) of the outbox slot an instant falls in."""
    seconds = int(instant.timestamp())
    return seconds - seconds % OUTBOX_SLOT_SECONDS


def after_time(instant: datetime) -> uuid.UUID:
    """The largest time UUID of an instant: reading ids above it reads what came after."""
    return max_uuid_from_time(instant.timestamp())


class OutboxRepository:
    """Appends to the outbox and reads it forward, for the sends and the relay."""

    def __init__(self, store: CassandraStore) -> None:
        self._store = store

    async def append(self, entry: OutboxEntry) -> None:
        """The send's first write: once it is there, the message cannot miss Kafka (nor
        history: the relay repairs a send that died before its history rows)."""
        message = entry.message
        await self._store.execute(
            "insert_outbox",
            (
                outbox_shard(message.chat_id),
                outbox_slot(uuid_time(entry.entry_id)),
                entry.entry_id,
                message.id,
                message.chat_id,
                message.sender_id,
                entry.recipient_id,
                entry.chat_created_at,
                entry.bucket,
                message.text,
                entry.kind,
                entry.changed_at,
            ),
        )

    async def announced_creation(self, chat: Chat) -> bool:
        """Whether the creation of `chat` has its outbox entry (it is or will be announced)."""
        shard, first = outbox_shard(chat.id), outbox_slot(chat.created_at)
        found = await asyncio.gather(
            *(
                self._store.execute("select_creation_entry", (shard, slot, chat.id, CHAT_CREATED))
                for slot in (first, first + OUTBOX_SLOT_SECONDS)
            )
        )
        return any(found)

    async def forget_text(
        self, chat_id: uuid.UUID, message_id: uuid.UUID, instants: Iterable[datetime]
    ) -> None:
        """Null the text of the message's entries written at `instants` (its send, its
        last edit): an entry's id is made just after its change, so it is in that instant's
        slot or the next. An entry not yet announced is then announced without its text,
        which the deletion that follows makes moot."""
        shard = outbox_shard(chat_id)
        slots = {outbox_slot(i) + step for i in instants for step in (0, OUTBOX_SLOT_SECONDS)}
        found = await asyncio.gather(
            *(
                self._store.execute("select_outbox_of_message", (shard, slot, message_id))
                for slot in sorted(slots)
            )
        )
        await asyncio.gather(
            *(
                self._store.execute("forget_outbox_text", (shard, slot, row["entry_id"]))
                for slot, rows in zip(sorted(slots), found, strict=True)
                for row in rows
            )
        )

    async def page(
        self, shard: int, slot: int, after: uuid.UUID, until: datetime, limit: int
    ) -> list[OutboxEntry]:
        """Entries of one shard and slot, entry ids after `after` and made at or before
        `until`, oldest first."""
        rows = await self._store.execute(
            "select_outbox", (shard, slot, after, after_time(until), limit)
        )
        return [
            OutboxEntry(
                entry_id=row["entry_id"],
                message=Message(
                    id=row["message_id"],
                    chat_id=row["chat_id"],
                    sender_id=row["sender_id"],
                    text=row["text"] or "",
                ),
                bucket=row["bucket"],
                recipient_id=row["recipient_id"],
                chat_created_at=utc(row["chat_created_at"]) or _EPOCH,
                kind=row["kind"],
                changed_at=utc(row["changed_at"]),
            )
            for row in rows
        ]

    async def record_acks(self, entry_ids: Sequence[uuid.UUID]) -> None:
        """Mark entries announced: one single-partition batch per slot they fall in."""
        by_slot: dict[int, list[uuid.UUID]] = {}
        for entry_id in entry_ids:
            by_slot.setdefault(outbox_slot(uuid_time(entry_id)), []).append(entry_id)
        await asyncio.gather(
            *(
                self._store.execute_batch(
                    [("insert_ack", (slot, entry_id)) for entry_id in ids], logged=False
                )
                for slot, ids in by_slot.items()
            )
        )

    async def acks(
        self, slot: int, after: uuid.UUID, until: datetime, limit: int
    ) -> list[uuid.UUID]:
        """Entry ids of one slot marked announced, after `after` and at or before `until`."""
        rows = await self._store.execute("select_acks", (slot, after, after_time(until), limit))
        return [row["entry_id"] for row in rows]

    async def get_watermark(self, shard: int) -> datetime | None:
        """How far the relay has announced a shard; None if it never recorded it."""
        rows = await self._store.execute("select_watermark", (shard,))
        return utc(rows[0]["swept_to"]) if rows else None

    async def set_watermark(self, shard: int, swept_to: datetime) -> None:
        await self._store.execute("update_watermark", (swept_to, shard))
