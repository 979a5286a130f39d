"""Edits and deletes of messages, and catch-up paging (DESIGN.md "Chat service additions").

Rules, whatever the order requests arrive in:
- only the sender edits or deletes; a delete wins: once deleted, a message stays deleted
  and an edit is refused (409). Both are Cassandra lightweight transactions conditioned on
  `deleted_at = null`, so a racing edit and delete are serialized by Paxos and an edit can
  never bring text back after the delete.
- the history row is changed first, then the outbox row is appended (like a send, it is
  announced on Kafka by the relay, keyed by chat). A 200/204 therefore means both are
  durable. A crash between the two leaves the change stored but unannounced and the client
  without an answer: its retry (an edit again, or a delete again, which re-announces the
  stored deletion with its original time) announces it.
- events reach consumers in outbox order, which can put an edit's event after its delete's
  (an edit committed just before a delete, its outbox row written just after). Consumers
  therefore ignore an edit of a message they know to be deleted: a delete is final.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from chat_common.contract.times import is_time_uuid, unix_micros
from chat_service.domain import DELETED, EDITED, Chat, Message, OutboxEntry
from chat_service.exceptions import MessageDeleted, MessageNotFound, NotTheSender
from chat_service.repository import MESSAGE_COLUMNS, ChatRepository, message_from_row
from chat_service.store import CassandraStore
from chat_service.timeuuids import new_message_id

# Catch-up reads buckets forward in steps that double, like backwards paging.
_FIRST_BUCKET_STEP = 1
_MAX_BUCKET_STEP = 16

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


def now_millis() -> datetime:
    """Now in UTC to the millisecond: what Cassandra's timestamp and the wire format keep."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond - now.microsecond % 1000)


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


@dataclass(eq=False)
class MessageChanges:
    """Edit, delete, and read forward from a point of history."""

    repository: ChatRepository
    changes: ChangeRepository
    announce: Callable[[OutboxEntry], None]

    async def _own_message(
        self, chat: Chat, caller: uuid.UUID, message_id: uuid.UUID
    ) -> tuple[Message, int]:
        found = await self.changes.find(chat.id, message_id) if is_time_uuid(message_id) else None
        if found is None:
            raise MessageNotFound()
        if found[0].sender_id != caller:
            raise NotTheSender()
        return found

    async def edit(
        self, chat: Chat, caller: uuid.UUID, message_id: uuid.UUID, text: str
    ) -> Message:
        """The message with its new text and `edited_at`; 409 once deleted."""
        message, bucket = await self._own_message(chat, caller, message_id)
        if message.deleted:
            raise MessageDeleted()
        edited_at = now_millis()
        if not await self.changes.edit(message, bucket, text, edited_at):
            raise MessageDeleted()  # the sender cannot change: a delete came first
        edited = Message(
            id=message.id,
            chat_id=chat.id,
            sender_id=caller,
            text=text,
            edited_at=edited_at,
        )
        await self._record(chat, edited, bucket, EDITED, edited_at)
        return edited

    async def delete(self, chat: Chat, caller: uuid.UUID, message_id: uuid.UUID) -> None:
        """Delete the message; deleting it again announces the same deletion again."""
        message, bucket = await self._own_message(chat, caller, message_id)
        await self.erase(chat, message, bucket)

    async def erase(self, chat: Chat, message: Message, bucket: int) -> None:
        """Delete a message (its text gone from history) and announce it; idempotent."""
        deleted_at = await self.changes.delete(message, bucket, now_millis())
        gone = Message(
            id=message.id,
            chat_id=chat.id,
            sender_id=message.sender_id,
            text="",
            deleted_at=deleted_at,
        )
        await self._record(chat, gone, bucket, DELETED, deleted_at)

    async def _record(
        self, chat: Chat, message: Message, bucket: int, kind: str, at: datetime
    ) -> None:
        low, high = chat.members
        recipient = high if message.sender_id == low else low
        entry = OutboxEntry(
            new_message_id(), message, bucket, recipient, chat.created_at, kind=kind, changed_at=at
        )
        await self.repository.outbox.append(entry)
        self.announce(entry)

    async def after(
        self, chat: Chat, after: uuid.UUID, quantity: int
    ) -> tuple[list[Message], uuid.UUID | None]:
        """Up to `quantity` messages strictly newer than `after`, oldest first, and the
        `after` of the next page (None when nothing newer is left)."""
        wanted = quantity + 1  # one more than asked tells whether anything newer is left
        # Newer messages are in `after`'s own bucket (the index's last one starting at or
        # before its second) or in later ones.
        first = await self.changes.bucket_of(chat.id, after)
        if first is None:
            first = unix_micros(after) // 1_000_000
        collected: list[Message] = []
        step = _FIRST_BUCKET_STEP
        while len(collected) < wanted:
            buckets = await self.changes.buckets_from(chat.id, first, step)
            if not buckets:
                break
            for bucket in buckets:
                collected += await self.changes.messages_after(
                    chat.id, bucket, after, wanted - len(collected)
                )
                if len(collected) >= wanted:
                    break
            if len(buckets) < step:
                break
            first = buckets[-1] + 1
            step = min(step * 2, _MAX_BUCKET_STEP)
        items = collected[:quantity]
        next_after = items[-1].id if len(collected) > quantity else None
        return items, next_after
