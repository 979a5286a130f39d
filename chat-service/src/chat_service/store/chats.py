"""Every query of chats and messages, as named prepared statements with bound values."""

import asyncio
import uuid
from typing import Any

from chat_common.contract.times import unix_micros
from chat_service.domain.model import Chat, ChatActivity, OutboxEntry
from chat_service.store.cassandra import CassandraStore
from chat_service.store.messages import MESSAGE_STATEMENTS, MessageRows
from chat_service.store.outbox import OUTBOX_STATEMENTS, OutboxRepository
from chat_service.store.rows import Statement, utc

# A relay flush moves many chats at once: their activity rows go out in unlogged batches
# of this many, one request each rather than one per row (as many requests as the sends
# themselves, with a message per chat and flush). Each row is its own partition, and
# Cassandra warns about an unlogged batch over more than 10 (and over 5 KiB).
_TOUCH_BATCH = 10

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
    **MESSAGE_STATEMENTS,
    **OUTBOX_STATEMENTS,
}


def _chat(row: dict[str, Any]) -> Chat:
    created_at = utc(row["created_at"])
    assert created_at is not None
    return Chat(
        id=row["chat_id"],
        members=(row["member_low"], row["member_high"]),
        created_at=created_at,
    )


class ChatRepository(MessageRows):
    """Reads and writes chats, messages and the outbox in Cassandra."""

    def __init__(self, store: CassandraStore) -> None:
        super().__init__(store)
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
            created_at = utc(row["created_at"])
            assert created_at is not None
            members = sorted((user_id, row["other_user_id"]))
            chat = Chat(id=row["chat_id"], members=(members[0], members[1]), created_at=created_at)
            activities.append(ChatActivity(chat=chat, last_message_at=utc(row["last_message_at"])))
        return activities

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
