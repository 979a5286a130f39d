"""The Firestore documents clients read, and where they live.

- `chats/{chat_id}/batches/{batch_id}`: `BatchDocument`, written once by the aggregator
  (DESIGN.md "Aggregator" and "Firestore, second wave"); clients listen to a chat's
  batches ordered by `last_sent_at`;
- `users/{user_id}/chats/{chat_id}`: `InboxDocument`, the realtime inbox;
- `chats/{chat_id}/receipts/{user_id}`: `ReceiptDocument`, a member's read mark;
- `session_revocations/{user_id}`: `SessionRevocationDocument`, read by the rules only.

In Firestore ids are strings, a document's own times are Timestamps (`datetime`), and
the times inside its message entries are RFC 3339 strings like the API's. `to_firestore`
gives the fields to write; `from_firestore` reads them back (extra fields are ignored,
and the second wave's lists default to empty for documents written before them).
"""

import math
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, computed_field

from chat_common.contract.times import Instant, TimeUUID, uuid_time

Id = Annotated[uuid.UUID, PlainSerializer(str, return_type=str)]
MessageId = Annotated[TimeUUID, PlainSerializer(str, return_type=str)]


def chat_batches(chat_id: uuid.UUID | str) -> str:
    """The collection of a chat's batch documents."""
    return f"chats/{chat_id}/batches"


def batch_path(chat_id: uuid.UUID | str, batch_id: str) -> str:
    return f"{chat_batches(chat_id)}/{batch_id}"


def user_inbox(user_id: uuid.UUID | str) -> str:
    """The collection of a user's inbox entries, one per chat."""
    return f"users/{user_id}/chats"


def inbox_path(user_id: uuid.UUID | str, chat_id: uuid.UUID | str) -> str:
    return f"{user_inbox(user_id)}/{chat_id}"


def chat_receipts(chat_id: uuid.UUID | str) -> str:
    """The collection of a chat's read receipts, one per member."""
    return f"chats/{chat_id}/receipts"


def receipt_path(chat_id: uuid.UUID | str, user_id: uuid.UUID | str) -> str:
    return f"{chat_receipts(chat_id)}/{user_id}"


class _Document(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    def to_firestore(self) -> dict[str, Any]:
        """The document's fields as Firestore stores them."""
        return self.model_dump()

    @classmethod
    def from_firestore(cls, data: Mapping[str, Any]) -> Self:
        """The document read from Firestore's fields; ValidationError when it is not one."""
        return cls.model_validate(dict(data))


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class BatchMessage(_Entry):
    """A message in a batch; `sent_at` is the time of its id."""

    id: MessageId
    text: str
    sent_at: Instant

    @classmethod
    def of(cls, message_id: uuid.UUID, text: str) -> "BatchMessage":
        return cls(id=message_id, text=text, sent_at=uuid_time(message_id))


class BatchEdit(_Entry):
    id: MessageId
    text: str
    edited_at: Instant


class BatchDelete(_Entry):
    id: MessageId
    deleted_at: Instant


class BatchDocument(_Document):
    """`chats/{chat_id}/batches/{batch_id}`: what one sender sent, edited or deleted in a window.

    `first_sent_at` / `last_sent_at` span the times of the entries; `expire_at` lets a TTL
    policy (or the sweeper) delete it once history has it. `completed_by` says why the
    aggregator completed the group (size, window, eager...).
    """

    chat_id: Id
    sender_id: Id
    members: tuple[Id, ...] = ()
    messages: tuple[BatchMessage, ...]
    edits: tuple[BatchEdit, ...] = ()
    deletes: tuple[BatchDelete, ...] = ()
    count: int
    first_sent_at: datetime
    last_sent_at: datetime
    created_at: datetime
    expire_at: datetime
    completed_by: str | None = None

    @classmethod
    def of(
        cls,
        *,
        chat_id: uuid.UUID,
        sender_id: uuid.UUID,
        members: Iterable[uuid.UUID],
        messages: Iterable[BatchMessage],
        edits: Iterable[BatchEdit] = (),
        deletes: Iterable[BatchDelete] = (),
        created_at: datetime,
        ttl: timedelta,
        completed_by: str | None = None,
    ) -> "BatchDocument":
        """A new batch; `count` and the time span are taken from the entries."""
        messages, edits, deletes = tuple(messages), tuple(edits), tuple(deletes)
        times = [
            *(m.sent_at for m in messages),
            *(e.edited_at for e in edits),
            *(d.deleted_at for d in deletes),
        ]
        if not times:
            raise ValueError("a batch carries at least one message, edit or delete")
        return cls(
            chat_id=chat_id,
            sender_id=sender_id,
            members=tuple(members),
            messages=messages,
            edits=edits,
            deletes=deletes,
            count=len(messages),
            first_sent_at=min(times),
            last_sent_at=max(times),
            created_at=created_at,
            expire_at=created_at + ttl,
            completed_by=completed_by,
        )


class LastMessage(_Entry):
    """The preview of a chat's latest message in the inbox; `text` is null once deleted."""

    id: MessageId
    sender_id: Id
    text: str | None
    sent_at: Instant


class InboxDocument(_Document):
    """`users/{user_id}/chats/{chat_id}`: one chat in a member's realtime inbox."""

    chat_id: Id
    other_user_id: Id
    last_message: LastMessage | None = None
    unread: int = Field(default=0, ge=0)
    read_up_to: MessageId | None = None
    other_read_up_to: MessageId | None = None
    updated_at: datetime


class ReceiptDocument(_Document):
    """`chats/{chat_id}/receipts/{user_id}`: how far a member has read, for the other one."""

    user_id: Id
    members: tuple[Id, Id]
    read_up_to: MessageId
    read_at: datetime


def session_revocation_path(user_id: uuid.UUID | str) -> str:
    """The user's session revocation document (no client may read it; rules do)."""
    return f"session_revocations/{user_id}"


class SessionRevocationDocument(_Document):
    """`session_revocations/{user_id}`: written by auth-service (a service account, which
    rules do not apply to) on logout-all and account deletion; firestore.rules refuses
    the user's reads signed in (`auth_time`, whole Unix seconds) at or before
    `revoked_at_seconds`, the whole seconds of `revoked_at` (rules have no arithmetic)."""

    user_id: Id
    revoked_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def revoked_at_seconds(self) -> int:
        return math.floor(self.revoked_at.timestamp())
