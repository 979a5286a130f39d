"""The queries of edits, deletes and forward paging (catch-up)."""

import uuid
from datetime import UTC, datetime

from chat_common.contract.times import unix_micros
from chat_service.domain.errors import MessageNotFound
from chat_service.domain.model import Message
from chat_service.store.cassandra import CassandraStore
from chat_service.store.messages import MESSAGE_COLUMNS, message_from_row

CHANGE_STATEMENTS: dict[str, str] = {
    "edit_message": (
        "UPDATE {keyspace}.message SET text = ?, edited_at = ? "
        "WHERE chat_id = ? AND bucket = ? AND message_id = ? "
        "IF sender_id = ? AND deleted_at = null"
    ),
    "delete_message": (
        "UPDATE {keyspace}.message SET text = null, deleted_at = ? "
        "WHERE chat_id = ? AND bucket = ? AND message_id = ? "
        "IF sender_id = ? AND deleted_at = null"
    ),
    "select_bucket_of": (
        "SELECT bucket FROM {keyspace}.message_bucket WHERE chat_id = ? AND bucket <= ? LIMIT 1"
    ),
    "select_buckets_from": (
        "SELECT bucket FROM {keyspace}.message_bucket WHERE chat_id = ? AND bucket >= ? "
        "ORDER BY bucket ASC LIMIT ?"
    ),
    "select_messages_after": (
        "SELECT " + MESSAGE_COLUMNS + " FROM {keyspace}.message "
        "WHERE chat_id = ? AND bucket = ? AND message_id > ? ORDER BY message_id ASC LIMIT ?"
    ),
}


class ChangeRepository:
    """The queries of edits, deletes and forward paging."""

    def __init__(self, store: CassandraStore) -> None:
        self._store = store

    async def bucket_of(self, chat_id: uuid.UUID, message_id: uuid.UUID) -> int | None:
        """The bucket that would hold a message id, from the bucket index (so a change of
        MESSAGE_BUCKET_SECONDS keeps old messages reachable); None before the first one."""
        second = unix_micros(message_id) // 1_000_000
        rows = await self._store.execute("select_bucket_of", (chat_id, second))
        return rows[0]["bucket"] if rows else None

    async def find(self, chat_id: uuid.UUID, message_id: uuid.UUID) -> tuple[Message, int] | None:
        """The message and its bucket; None when it is not there."""
        bucket = await self.bucket_of(chat_id, message_id)
        if bucket is None:
            return None
        rows = await self._store.execute("select_message", (chat_id, bucket, message_id))
        return (message_from_row(chat_id, rows[0]), bucket) if rows else None

    async def edit(self, message: Message, bucket: int, text: str, edited_at: datetime) -> bool:
        """Replace the text unless the message was deleted meanwhile; whether it applied."""
        rows = await self._store.execute(
            "edit_message",
            (text, edited_at, message.chat_id, bucket, message.id, message.sender_id),
        )
        return bool(rows[0]["[applied]"])

    async def delete(self, message: Message, bucket: int, deleted_at: datetime) -> datetime:
        """Delete the message and drop its text; when it was deleted (now or before)."""
        rows = await self._store.execute(
            "delete_message", (deleted_at, message.chat_id, bucket, message.id, message.sender_id)
        )
        row = rows[0]
        if row["[applied]"]:
            return deleted_at
        earlier: datetime | None = row.get("deleted_at")
        if earlier is None:  # the condition failed on the sender: cannot happen for a found row
            raise MessageNotFound()
        return earlier.replace(tzinfo=UTC) if earlier.tzinfo is None else earlier

    async def buckets_from(self, chat_id: uuid.UUID, start: int, limit: int) -> list[int]:
        rows = await self._store.execute("select_buckets_from", (chat_id, start, limit))
        return [row["bucket"] for row in rows]

    async def messages_after(
        self, chat_id: uuid.UUID, bucket: int, after: uuid.UUID, limit: int
    ) -> list[Message]:
        rows = await self._store.execute("select_messages_after", (chat_id, bucket, after, limit))
        return [message_from_row(chat_id, row) for row in rows]
