"""Messages in Cassandra: history rows, the bucket index, idempotent sends, and the
outbox relay's repair of a send that died halfway."""

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

from chat_common.contract.times import unix_micros
from chat_service.domain.model import ClaimedMessage, Message, OutboxEntry
from chat_service.store.cassandra import CassandraStore
from chat_service.store.indexed_buckets import IndexedBuckets
from chat_service.store.rows import Statement, utc

# The largest bigint: "no upper bound" for a bucket query.
_NO_BUCKET_BOUND = 2**63 - 1
# The sweep repairs history rows in single-partition batches, which Cassandra holds to no
# batch size threshold; this bounds one to 50 messages of at most 4,000 characters.
_REPAIR_BATCH = 50

# What every read of a message selects, and how a row becomes a Message.
MESSAGE_COLUMNS = "message_id, sender_id, text, edited_at, deleted_at"


def message_from_row(chat_id: uuid.UUID, row: dict[str, Any]) -> Message:
    return Message(
        id=row["message_id"],
        chat_id=chat_id,
        sender_id=row["sender_id"],
        text=row["text"] or "",
        edited_at=utc(row["edited_at"]),
        deleted_at=utc(row["deleted_at"]),
    )


MESSAGE_STATEMENTS: dict[str, str] = {
    "insert_message": (
        "INSERT INTO {keyspace}.message (chat_id, bucket, message_id, sender_id, text) "
        "VALUES (?, ?, ?, ?, ?)"
    ),
    # The relay's repair of a send that died after its outbox row: stamped with the
    # message's time, so it never overrides the send's own write or a later edit.
    "repair_message": (
        "INSERT INTO {keyspace}.message (chat_id, bucket, message_id, sender_id, text) "
        "VALUES (?, ?, ?, ?, ?) USING TIMESTAMP ?"
    ),
    "insert_bucket": "INSERT INTO {keyspace}.message_bucket (chat_id, bucket) VALUES (?, ?)",
    "claim_client_message": (
        "INSERT INTO {keyspace}.client_message "
        "(chat_id, sender_id, client_message_id, message_id, bucket) "
        "VALUES (?, ?, ?, ?, ?) IF NOT EXISTS"
    ),
    "select_message": (
        "SELECT " + MESSAGE_COLUMNS + " FROM {keyspace}.message "
        "WHERE chat_id = ? AND bucket = ? AND message_id = ?"
    ),
    "select_buckets": (
        "SELECT bucket FROM {keyspace}.message_bucket WHERE chat_id = ? AND bucket <= ? LIMIT ?"
    ),
    "select_messages_newest": (
        "SELECT " + MESSAGE_COLUMNS + " FROM {keyspace}.message "
        "WHERE chat_id = ? AND bucket = ? LIMIT ?"
    ),
    "select_messages_before": (
        "SELECT " + MESSAGE_COLUMNS + " FROM {keyspace}.message "
        "WHERE chat_id = ? AND bucket = ? AND message_id < ? LIMIT ?"
    ),
}


class MessageRows:
    """The message queries of `ChatRepository` (which this is a part of)."""

    def __init__(self, store: CassandraStore, indexed: IndexedBuckets | None = None) -> None:
        self._store = store
        self._indexed = indexed if indexed is not None else IndexedBuckets()

    async def claim_client_message(
        self, client_message_id: str, message: Message, bucket: int
    ) -> ClaimedMessage | None:
        """Claim a client_message_id for `message`; the earlier claim if one exists.

        The claim keeps no text (a delete could not reach it): the earlier claim comes back
        with `message`'s, which a retry carries the same.
        """
        rows = await self._store.execute(
            "claim_client_message",
            (message.chat_id, message.sender_id, client_message_id, message.id, bucket),
        )
        row = rows[0]
        if row["[applied]"]:
            return None
        first = Message(
            id=row["message_id"],
            chat_id=message.chat_id,
            sender_id=message.sender_id,
            text=message.text,
        )
        return ClaimedMessage(message=first, bucket=row["bucket"])

    async def store_message(self, message: Message, bucket: int) -> None:
        """The history row, and its bucket's index row unless this process's own write of
        that row was acknowledged already (`IndexedBuckets`): then one partition write.

        With the index row, both go in one round trip, unlogged: the outbox row, written
        before, repairs either half if one is lost.
        """
        row = (message.chat_id, bucket, message.id, message.sender_id, message.text)
        if (message.chat_id, bucket) in self._indexed:
            await self._store.execute("insert_message", row)
            return
        await self._store.execute_batch(
            [("insert_message", row), ("insert_bucket", (message.chat_id, bucket))],
            logged=False,
        )
        self._indexed.acknowledged(message.chat_id, bucket)

    async def repair_messages(self, entries: Sequence[OutboxEntry]) -> None:
        """Write the history rows of outbox entries again, never overriding newer writes:
        one request per history partition and one per chat's bucket index, not one per
        message."""
        rows: dict[tuple[uuid.UUID, int], list[Statement]] = {}
        buckets: dict[uuid.UUID, set[int]] = {}
        for entry in entries:
            message = entry.message
            rows.setdefault((message.chat_id, entry.bucket), []).append(
                (
                    "repair_message",
                    (
                        message.chat_id,
                        entry.bucket,
                        message.id,
                        message.sender_id,
                        message.text,
                        unix_micros(message.id),
                    ),
                )
            )
            buckets.setdefault(message.chat_id, set()).add(entry.bucket)
        batches = [
            partition[start : start + _REPAIR_BATCH]
            for partition in rows.values()
            for start in range(0, len(partition), _REPAIR_BATCH)
        ]
        batches += [
            [("insert_bucket", (chat_id, bucket)) for bucket in sorted(chat_buckets)]
            for chat_id, chat_buckets in buckets.items()
        ]
        await asyncio.gather(*(self._store.execute_batch(batch, logged=False) for batch in batches))

    async def get_message(
        self, chat_id: uuid.UUID, bucket: int, message_id: uuid.UUID
    ) -> Message | None:
        rows = await self._store.execute("select_message", (chat_id, bucket, message_id))
        return message_from_row(chat_id, rows[0]) if rows else None

    async def list_buckets(
        self, chat_id: uuid.UUID, at_or_before: int | None, limit: int
    ) -> list[int]:
        """The chat's non-empty buckets starting at or before a second, newest first."""
        bound = _NO_BUCKET_BOUND if at_or_before is None else at_or_before
        rows = await self._store.execute("select_buckets", (chat_id, bound, limit))
        return [row["bucket"] for row in rows]

    async def list_messages(
        self, chat_id: uuid.UUID, bucket: int, before: uuid.UUID | None, limit: int
    ) -> list[Message]:
        """Up to `limit` messages of one bucket strictly older than `before`, newest first."""
        if before is None:
            rows = await self._store.execute("select_messages_newest", (chat_id, bucket, limit))
        else:
            rows = await self._store.execute(
                "select_messages_before", (chat_id, bucket, before, limit)
            )
        return [message_from_row(chat_id, row) for row in rows]
