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

from chat_common.contract.times import is_time_uuid, unix_micros, uuid_time
from chat_service.domain.errors import MessageDeleted, MessageNotFound, NotTheSender
from chat_service.domain.model import DELETED, EDITED, Chat, Message, OutboxEntry
from chat_service.domain.timeuuids import new_message_id
from chat_service.store.changes import ChangeRepository
from chat_service.store.chats import ChatRepository

# Catch-up reads buckets forward in steps that double, like backwards paging.
_FIRST_BUCKET_STEP = 1
_MAX_BUCKET_STEP = 16


def now_millis() -> datetime:
    """Now in UTC to the millisecond: what Cassandra's timestamp and the wire format keep."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond - now.microsecond % 1000)


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
        """Delete a message (its text gone from history and from the outbox rows of its
        send and last edit) and announce it; idempotent."""
        deleted_at = await self.changes.delete(message, bucket, now_millis())
        changed = [uuid_time(message.id), *([message.edited_at] if message.edited_at else [])]
        await self.repository.outbox.forget_text(chat.id, message.id, changed)
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
