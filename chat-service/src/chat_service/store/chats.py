"""Every query of the chat service, as named prepared statements with bound values."""

import asyncio
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from chat_common.contract.times import unix_micros
from chat_service.domain.model import Chat, ChatActivity, ClaimedMessage, Message, OutboxEntry
from chat_service.store.cassandra import CassandraStore
from chat_service.store.outbox import OUTBOX_STATEMENTS, OutboxRepository

# The largest bigint: "no upper bound" for a bucket query.
_NO_BUCKET_BOUND = 2**63 - 1
# A relay flush moves many chats at once: their activity rows go out in unlogged batches
# of this many, one request each rather than one per row (as many requests as the sends
# themselves, with a message per chat and flush). Each row is its own partition, and
# Cassandra warns about an unlogged batch over more than 10 (and over 5 KiB).
_TOUCH_BATCH = 10
# The sweep repairs history rows in single-partition batches, which Cassandra holds to no
# batch size threshold; this bounds one to 50 messages of at most 4,000 characters.
_REPAIR_BATCH = 50

Statement = tuple[str, Sequence[object]]

# What every read of a message selects, and how a row becomes a Message.
MESSAGE_COLUMNS = "message_id, sender_id, text, edited_at, deleted_at"


def message_from_row(chat_id: uuid.UUID, row: dict[str, Any]) -> Message:
    return Message(
        id=row["message_id"],
        chat_id=chat_id,
        sender_id=row["sender_id"],
        text=row["text"] or "",
        edited_at=_utc(row["edited_at"]),
        deleted_at=_utc(row["deleted_at"]),
    )


# `{keyspace}` is filled in once at start-up with the validated keyspace name (see
# schema.qualify): identifiers cannot be bind values, and Cassandra 5 warns on every
# execution of a prepared statement whose tables are not qualified.
STATEMENTS: dict[str, str] = {
    "ping": "SELECT release_version FROM system.local",
    "insert_chat": (
        "INSERT INTO {keyspace}.chat (chat_id, member_low, member_high, created_at) "
        "VALUES (?, ?, ?, ?) IF NOT EXISTS"
    ),
    "select_chat": (
        "SELECT chat_id, member_low, member_high, created_at FROM {keyspace}.chat WHERE chat_id = ?"
    ),
    # Never touches last_message_at, so re-running it (a retried creation) loses no activity.
    "upsert_chat_by_user": (
        "INSERT INTO {keyspace}.chat_by_user (user_id, chat_id, other_user_id, created_at) "
        "VALUES (?, ?, ?, ?)"
    ),
    # The chat list reads a member's partition in chunks by chat id, so no driver page can
    # silently cut it short.
    "select_chats_by_user": (
        "SELECT chat_id, other_user_id, created_at, last_message_at "
        "FROM {keyspace}.chat_by_user WHERE user_id = ? LIMIT ?"
    ),
    "select_chats_by_user_after": (
        "SELECT chat_id, other_user_id, created_at, last_message_at "
        "FROM {keyspace}.chat_by_user WHERE user_id = ? AND chat_id > ? LIMIT ?"
    ),
    # A whole row rather than an UPDATE, so a chat whose creation died before listing it
    # under its members is repaired by its first message. Written by the outbox relay,
    # once per chat per published batch, stamped with the message's own time: the latest
    # message wins whatever order batches and replays arrive in.
    "touch_chat_by_user": (
        "INSERT INTO {keyspace}.chat_by_user "
        "(user_id, chat_id, other_user_id, created_at, last_message_at) "
        "VALUES (?, ?, ?, ?, ?) USING TIMESTAMP ?"
    ),
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
        "(chat_id, sender_id, client_message_id, message_id, bucket, text) "
        "VALUES (?, ?, ?, ?, ?, ?) IF NOT EXISTS"
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
    **OUTBOX_STATEMENTS,
}


def _utc(value: datetime | None) -> datetime | None:
    # The driver returns naive datetimes that are UTC.
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _chat(row: dict[str, Any]) -> Chat:
    created_at = _utc(row["created_at"])
    assert created_at is not None
    return Chat(
        id=row["chat_id"],
        members=(row["member_low"], row["member_high"]),
        created_at=created_at,
    )


class ChatRepository:
    """Reads and writes chats, messages and the outbox in Cassandra."""

    def __init__(self, store: CassandraStore) -> None:
        self._store = store
        self.outbox = OutboxRepository(store)

    async def insert_chat_if_absent(self, chat: Chat) -> tuple[Chat, bool]:
        """Create the chat unless its row exists: (the stored chat, created by this call)."""
        rows = await self._store.execute(
            "insert_chat", (chat.id, chat.members[0], chat.members[1], chat.created_at)
        )
        row = rows[0]
        if row["[applied]"]:
            return chat, True
        return _chat(row), False

    async def get_chat(self, chat_id: uuid.UUID) -> Chat | None:
        rows = await self._store.execute("select_chat", (chat_id,))
        return _chat(rows[0]) if rows else None

    async def add_chat_to_members(self, chat: Chat) -> None:
        """List the chat under both members (idempotent, so a retry repairs a crash)."""
        low, high = chat.members
        await self._store.execute_batch(
            [
                ("upsert_chat_by_user", (low, chat.id, high, chat.created_at)),
                ("upsert_chat_by_user", (high, chat.id, low, chat.created_at)),
            ]
        )

    async def list_user_chats(
        self, user_id: uuid.UUID, after: uuid.UUID | None, limit: int
    ) -> list[ChatActivity]:
        """Up to `limit` of the user's chats with ids after `after`, in chat id order."""
        if after is None:
            rows = await self._store.execute("select_chats_by_user", (user_id, limit))
        else:
            rows = await self._store.execute("select_chats_by_user_after", (user_id, after, limit))
        activities = []
        for row in rows:
            created_at = _utc(row["created_at"])
            assert created_at is not None
            members = sorted((user_id, row["other_user_id"]))
            chat = Chat(id=row["chat_id"], members=(members[0], members[1]), created_at=created_at)
            activities.append(ChatActivity(chat=chat, last_message_at=_utc(row["last_message_at"])))
        return activities

    async def claim_client_message(
        self, client_message_id: str, message: Message, bucket: int
    ) -> ClaimedMessage | None:
        """Claim a client_message_id for `message`; the earlier claim if one exists."""
        rows = await self._store.execute(
            "claim_client_message",
            (
                message.chat_id,
                message.sender_id,
                client_message_id,
                message.id,
                bucket,
                message.text,
            ),
        )
        row = rows[0]
        if row["[applied]"]:
            return None
        first = Message(
            id=row["message_id"],
            chat_id=message.chat_id,
            sender_id=message.sender_id,
            text=row["text"],
        )
        return ClaimedMessage(message=first, bucket=row["bucket"])

    async def store_message(self, message: Message, bucket: int) -> None:
        """The history row and its bucket index entry, in one round trip.

        The index row is written with every message (an idempotent overwrite of one tiny
        cell) rather than remembered per process, so a page always finds its messages.
        Unlogged: the outbox row, written before, repairs either half if one is lost.
        """
        await self._store.execute_batch(
            [
                (
                    "insert_message",
                    (message.chat_id, bucket, message.id, message.sender_id, message.text),
                ),
                ("insert_bucket", (message.chat_id, bucket)),
            ],
            logged=False,
        )

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

    async def touch_chats(self, latest: list[OutboxEntry]) -> None:
        """Move both members' activity to each entry's time (one entry per chat); rows
        that fail to land are written again by the caller's retry (each is idempotent)."""
        statements: list[Statement] = []
        for entry in latest:
            message, (low, high) = entry.message, entry.members
            stamp = unix_micros(message.id)
            created, at = entry.chat_created_at, message.sent_at
            statements.append(
                ("touch_chat_by_user", (low, message.chat_id, high, created, at, stamp))
            )
            statements.append(
                ("touch_chat_by_user", (high, message.chat_id, low, created, at, stamp))
            )
        await asyncio.gather(
            *(
                self._store.execute_batch(statements[start : start + _TOUCH_BATCH], logged=False)
                for start in range(0, len(statements), _TOUCH_BATCH)
            )
        )

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
