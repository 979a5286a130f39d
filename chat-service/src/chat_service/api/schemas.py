"""Request and response bodies of the chat API."""

import uuid
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from chat_common.contract.documents import LastMessage
from chat_common.contract.moderation import REASON_MAX_CHARS
from chat_common.contract.times import Instant, TimeUUID
from chat_common.text import RawMaxLength, SafeText

MAX_TEXT_LENGTH = 4000

# Every instant leaves as RFC 3339 UTC with milliseconds, exactly like the Kafka event,
# so a client merging realtime batches with history sees the same strings: the contract's
# one serializer, which auth-service uses too.
Timestamp = Instant

# Text is trimmed, so "   " is empty (422); the 4,000 limit holds for the text as sent;
# control characters (but newline and tab) and bidi overrides are refused (422).
MessageText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT_LENGTH),
    RawMaxLength(MAX_TEXT_LENGTH),
    SafeText,
]


class ChatCreate(BaseModel):
    """`POST /chats`: the other member of the chat."""

    model_config = ConfigDict(extra="forbid")

    user_id: uuid.UUID


class ChatPublic(BaseModel):
    """A chat as `POST /chats` returns it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    members: list[uuid.UUID]
    created_at: Timestamp


class ChatSummary(ChatPublic):
    """A chat in the caller's list: latest activity, preview, unread count, read marks."""

    last_message_at: Timestamp | None
    last_message: LastMessage | None = Field(
        description="The newest message: `text` cut to 100 characters, null once deleted."
    )
    unread: int = Field(ge=0, description="Messages from the other member newer than read_up_to.")
    read_up_to: uuid.UUID | None = Field(description="The caller's read mark (a message id).")
    other_read_up_to: uuid.UUID | None = Field(description="The other member's read mark.")


class ChatList(BaseModel):
    """`GET /chats`: the caller's chats, most recent activity first, a page at a time."""

    items: list[ChatSummary]
    next_cursor: str | None = Field(description="`cursor` of the next page; null on the last.")


class ReadMark(BaseModel):
    """`POST /chat/{chat_id}/read`: the newest message the caller has read."""

    model_config = ConfigDict(extra="forbid")

    up_to: TimeUUID


class MessageCreate(BaseModel):
    """`POST /chat/{chat_id}/messages`."""

    model_config = ConfigDict(extra="forbid")

    text: MessageText
    client_message_id: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = (
        Field(default=None, description="Retries with the same value return the first message.")
    )


class MessagePublic(BaseModel):
    """A stored message; `id` is a version-1 time UUID and `sent_at` is its time.

    `edited_at` is null unless the sender edited it; once `deleted`, `text` is null."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    chat_id: uuid.UUID
    sender_id: uuid.UUID
    text: str | None
    sent_at: Timestamp
    edited_at: Timestamp | None = None
    deleted: bool = False

    @model_validator(mode="after")
    def _no_text_once_deleted(self) -> Self:
        if self.deleted:
            self.text = None
        return self


class MessageEdit(BaseModel):
    """`PATCH /chat/{chat_id}/messages/{message_id}`: the new text."""

    model_config = ConfigDict(extra="forbid")

    text: MessageText


class MessageCatchUp(BaseModel):
    """A page of catch-up, oldest first; `next_after` continues it, null at the newest."""

    items: list[MessagePublic]
    next_after: uuid.UUID | None


class MessagePage(BaseModel):
    """A page of history, newest first; `next_time` continues it, null at the beginning."""

    items: list[MessagePublic]
    next_time: uuid.UUID | None


# A report's reason: the same rules as a message's text, shorter (a type alias each, as
# mypy needs them spelled out).
ReportReason = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=REASON_MAX_CHARS),
    RawMaxLength(REASON_MAX_CHARS),
    SafeText,
]


class ReportCreate(BaseModel):
    """`POST /chat/{chat_id}/messages/{message_id}/report`: why the message is reported."""

    model_config = ConfigDict(extra="forbid")

    reason: ReportReason


class BlockPublic(BaseModel):
    """A user the caller blocked."""

    user_id: uuid.UUID
    blocked_at: Instant


class BlockList(BaseModel):
    """`GET /blocks`: everyone the caller blocked (at most 1,000)."""

    items: list[BlockPublic]
