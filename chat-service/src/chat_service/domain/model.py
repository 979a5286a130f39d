"""Domain records of the chat service (no I/O, no framework)."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from chat_common.contract.times import uuid_time

# Namespace of chat ids: uuid5(namespace, "<lower id>:<higher id>").
CHAT_ID_NAMESPACE = uuid.UUID("6f6b3f5e-2d0c-4d3e-9a57-2b8f8e1f6c11")


def chat_id_for(first: uuid.UUID, second: uuid.UUID) -> uuid.UUID:
    """The one chat id of a pair, whoever starts it: concurrent creations meet on one row."""
    low, high = sorted((first, second))
    return uuid.uuid5(CHAT_ID_NAMESPACE, f"{low}:{high}")


@dataclass(frozen=True, slots=True)
class Chat:
    """A two-person chat; members are sorted and never change."""

    id: uuid.UUID
    members: tuple[uuid.UUID, uuid.UUID]
    created_at: datetime

    def has_member(self, user_id: uuid.UUID) -> bool:
        return user_id in self.members


@dataclass(frozen=True, slots=True)
class Block:
    """A user the caller blocked, and when."""

    user_id: uuid.UUID
    blocked_at: datetime


@dataclass(frozen=True, slots=True)
class ChatActivity:
    """A chat seen from one member's list, with its latest message time."""

    chat: Chat
    last_message_at: datetime | None

    @property
    def active_at(self) -> datetime:
        """What "most recent activity" sorts by: the last message, else the creation."""
        return self.last_message_at or self.chat.created_at


@dataclass(frozen=True, slots=True)
class Message:
    """A chat message; `id` is a version-1 time UUID and carries the send time."""

    id: uuid.UUID
    chat_id: uuid.UUID
    sender_id: uuid.UUID
    # Empty once deleted: a deleted message keeps no text.
    text: str
    edited_at: datetime | None = None
    deleted_at: datetime | None = None

    @property
    def sent_at(self) -> datetime:
        return uuid_time(self.id)

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None


# Kinds of outbox entries besides a created message (whose kind is None).
EDITED = "edited"
DELETED = "deleted"
# A read mark: `message.id` is `up_to`, `message.sender_id` the reader (see read_marks).
READ = "read"
# A chat was opened (`chat.created`): `message.sender_id` is the caller of POST /chats,
# `message.id` the entry's own id (there is no message), `chat_created_at` the time.
CHAT_CREATED = "chat_created"


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A message as its outbox row carries it: all the relay needs to announce it, to
    repair its history rows, and to move both members' inbox activity."""

    # A time UUID made right before the outbox write: the row's place in the outbox.
    entry_id: uuid.UUID
    message: Message
    bucket: int
    recipient_id: uuid.UUID
    chat_created_at: datetime
    # None: the message was created; else EDITED or DELETED (see message_changes).
    kind: str | None = None
    changed_at: datetime | None = None

    @property
    def members(self) -> tuple[uuid.UUID, uuid.UUID]:
        low, high = sorted((self.message.sender_id, self.recipient_id))
        return low, high

    @classmethod
    def chat_created(cls, entry_id: uuid.UUID, chat: Chat, caller: uuid.UUID) -> "OutboxEntry":
        """The entry that announces `chat` as opened by `caller` (see CHAT_CREATED)."""
        other = chat.members[1] if caller == chat.members[0] else chat.members[0]
        return cls(
            entry_id=entry_id,
            message=Message(id=entry_id, chat_id=chat.id, sender_id=caller, text=""),
            bucket=0,
            recipient_id=other,
            chat_created_at=chat.created_at,
            kind=CHAT_CREATED,
            changed_at=chat.created_at,
        )


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    """The message an earlier request stored (or is storing) under a client_message_id."""

    message: Message
    bucket: int
