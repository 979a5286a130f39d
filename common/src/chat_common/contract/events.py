"""The Kafka events (DESIGN.md "Kafka event" and "Kafka events, version 2").

Topic `chat-messages`, key = chat id (one chat's events stay ordered in one partition):
version 1 `{"v":1, id, chat_id, sender_id, text, sent_at}` and version 2 with a `type`
(`message.created`, `message.edited`, `message.deleted`, `chat.read`, and `chat.created`, an
addition to DESIGN.md's list: a chat was opened, so its inbox entries appear). Topic
`user-events`, key = user id: `user.deleted` and `user.sessions_revoked` (logout-all).
Producers build a model and call `encode`;
consumers call `parse_chat_event` / `parse_user_event`, which accept exactly these shapes
(ids are UUIDs, message ids version-1, times RFC 3339 UTC with milliseconds; unknown extra
fields are ignored so that a newer producer's additions do not stop an older consumer).
A version-1 event is a created message without members.
"""

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Tag,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
)

from chat_common.contract.times import Instant, TimeUUID, truncate_millis, uuid_time

CHAT_EVENTS_TOPIC = "chat-messages"
USER_EVENTS_TOPIC = "user-events"

_T = TypeVar("_T")


class MalformedEvent(ValueError):
    """A record value that is no event of the contract; the message says why."""


def _two_members(value: tuple[uuid.UUID, uuid.UUID]) -> tuple[uuid.UUID, uuid.UUID]:
    if value[0] == value[1]:
        raise ValueError("a chat has two different members")
    return value


Members = Annotated[tuple[uuid.UUID, uuid.UUID], AfterValidator(_two_members)]
"""The two members of a chat."""


class _Event(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")

    # Declared here so that `v` comes first in every encoded event; each event narrows it.
    v: int

    def encode(self) -> bytes:
        """The record value: compact JSON, fields in the order DESIGN.md lists them."""
        return self.model_dump_json().encode()


class _ChatEvent(_Event):
    if TYPE_CHECKING:  # each event declares it in its own place in the field order
        chat_id: uuid.UUID

    def key(self) -> bytes:
        """Record key: the chat id, so one chat's events stay ordered in one partition."""
        return str(self.chat_id).encode()


def _the_time_of_the_id(sent_at: datetime, info: ValidationInfo) -> datetime:
    # `id` comes before `sent_at` in every event; it is absent only when it was refused.
    message_id = info.data.get("id")
    if isinstance(message_id, uuid.UUID) and sent_at != truncate_millis(uuid_time(message_id)):
        raise ValueError("sent_at must be the time of the message id")
    return sent_at


SentAt = Annotated[Instant, AfterValidator(_the_time_of_the_id)]
"""A created message's time: the time of its id (declared after `id`)."""


def _including(author: str) -> AfterValidator:
    """Members that must include the event's `author` field (declared before `members`)."""

    def check(members: tuple[uuid.UUID, uuid.UUID], info: ValidationInfo) -> object:
        user_id = info.data.get(author)
        if isinstance(user_id, uuid.UUID) and user_id not in members:
            raise ValueError(f"{author} must be one of the members")
        return members

    return AfterValidator(check)


class MessageCreatedV1(_ChatEvent):
    """Version 1: a created message, without members (still accepted from the topic)."""

    v: Literal[1] = 1
    id: TimeUUID
    chat_id: uuid.UUID
    sender_id: uuid.UUID
    text: str
    sent_at: SentAt

    @property
    def members(self) -> tuple[uuid.UUID, ...]:
        """Unknown in version 1."""
        return ()


class _MemberMessageEvent(_ChatEvent):
    """A version-2 event about one message: made by its sender, one of the members."""

    v: Literal[2] = 2
    type: str
    id: TimeUUID
    chat_id: uuid.UUID
    sender_id: uuid.UUID
    members: Annotated[Members, _including("sender_id")]


class MessageCreated(_MemberMessageEvent):
    """`message.created`: a stored message; `sent_at` is the time of its id."""

    type: Literal["message.created"] = "message.created"
    text: str
    sent_at: SentAt

    @classmethod
    def of(
        cls,
        message_id: uuid.UUID,
        chat_id: uuid.UUID,
        sender_id: uuid.UUID,
        members: Sequence[uuid.UUID],
        text: str,
    ) -> "MessageCreated":
        """The event of a stored message; its time comes from the id."""
        first, second = members
        return cls(
            id=message_id,
            chat_id=chat_id,
            sender_id=sender_id,
            members=(first, second),
            text=text,
            sent_at=uuid_time(message_id),
        )


class MessageEdited(_MemberMessageEvent):
    """`message.edited`: the sender replaced a message's text."""

    type: Literal["message.edited"] = "message.edited"
    text: str
    edited_at: Instant


class MessageDeleted(_MemberMessageEvent):
    """`message.deleted`: the sender deleted a message."""

    type: Literal["message.deleted"] = "message.deleted"
    deleted_at: Instant


class ChatRead(_ChatEvent):
    """`chat.read`: a member's read mark moved up to a message."""

    v: Literal[2] = 2
    type: Literal["chat.read"] = "chat.read"
    chat_id: uuid.UUID
    user_id: uuid.UUID
    members: Annotated[Members, _including("user_id")]
    up_to: TimeUUID
    read_at: Instant


class ChatCreated(_ChatEvent):
    """`chat.created`: a chat was opened (announced on every POST /chats, so a repeat
    repairs an announcement lost in a crash); `created_at` is the chat's own, unchanged."""

    v: Literal[2] = 2
    type: Literal["chat.created"] = "chat.created"
    chat_id: uuid.UUID
    members: Members
    created_at: Instant


class UserDeleted(_Event):
    """`user.deleted` on `user-events`: an account was deleted."""

    v: Literal[2] = 2
    type: Literal["user.deleted"] = "user.deleted"
    user_id: uuid.UUID
    deleted_at: Instant

    def key(self) -> bytes:
        """Record key: the user id."""
        return str(self.user_id).encode()


class UserSessionsRevoked(_Event):
    """`user.sessions_revoked` on `user-events`: the user logged out everywhere; tokens
    issued before `revoked_at` are refused from then on (DESIGN.md "Sessions")."""

    v: Literal[2] = 2
    type: Literal["user.sessions_revoked"] = "user.sessions_revoked"
    user_id: uuid.UUID
    revoked_at: Instant

    def key(self) -> bytes:
        """Record key: the user id."""
        return str(self.user_id).encode()


UserEvent = UserDeleted | UserSessionsRevoked

ChatEvent = (
    MessageCreatedV1 | MessageCreated | MessageEdited | MessageDeleted | ChatRead | ChatCreated
)
CreatedMessage = MessageCreatedV1 | MessageCreated
"""What consumers treat as a new message: either version."""


def _version_and_type(value: object) -> str | None:
    if isinstance(value, dict):
        if value.get("v") == 1 and "type" not in value:
            return "v1"
        if value.get("v") == 2 and isinstance(value.get("type"), str):
            return str(value["type"])
        return None
    if isinstance(value, MessageCreatedV1):
        return "v1"
    kind = getattr(value, "type", None)
    return kind if isinstance(kind, str) else None


_CHAT_EVENT: TypeAdapter[ChatEvent] = TypeAdapter(
    Annotated[
        Annotated[MessageCreatedV1, Tag("v1")]
        | Annotated[MessageCreated, Tag("message.created")]
        | Annotated[MessageEdited, Tag("message.edited")]
        | Annotated[MessageDeleted, Tag("message.deleted")]
        | Annotated[ChatRead, Tag("chat.read")]
        | Annotated[ChatCreated, Tag("chat.created")],
        Discriminator(
            _version_and_type,
            custom_error_type="unknown_event",
            custom_error_message="not a known event: v 1 without type, or v 2 with a known type",
        ),
    ]
)


def _reasons(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors()
    )


def _parse(validate: Callable[[bytes], _T], value: bytes | None) -> _T:
    if not value:
        raise MalformedEvent("empty record value")
    try:
        return validate(value)
    except ValidationError as exc:
        raise MalformedEvent(_reasons(exc)) from exc


def parse_chat_event(value: bytes | None) -> ChatEvent:
    """The event in a `chat-messages` record value, or MalformedEvent saying why not."""
    return _parse(_CHAT_EVENT.validate_json, value)


_USER_EVENT: TypeAdapter[UserEvent] = TypeAdapter(
    Annotated[
        Annotated[UserDeleted, Tag("user.deleted")]
        | Annotated[UserSessionsRevoked, Tag("user.sessions_revoked")],
        Discriminator(
            _version_and_type,
            custom_error_type="unknown_event",
            custom_error_message="not a known user event: v 2 with a known type",
        ),
    ]
)


def parse_user_event(value: bytes | None) -> UserEvent:
    """The event in a `user-events` record value, or MalformedEvent saying why not."""
    return _parse(_USER_EVENT.validate_json, value)
