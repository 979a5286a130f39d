"""The Kafka `chat-messages` event: parsing (strict) and encoding (for producers and tests)."""

import json
import uuid
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from aggregator.aggregation import Message, uuid1_time_ms


class MalformedEvent(ValueError):
    """The record is not a version-1 chat message event; it goes to the dead-letter topic."""


class ChatMessageEvent(BaseModel):
    """`{"v":1, "id", "chat_id", "sender_id", "text", "sent_at"}` (DESIGN.md)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    v: Literal[1]
    id: uuid.UUID
    chat_id: str
    sender_id: str
    text: str
    sent_at: str

    @field_validator("id")
    @classmethod
    def _time_uuid(cls, value: uuid.UUID) -> uuid.UUID:
        if value.version != 1:
            raise ValueError("id must be a version-1 time UUID")
        return value

    @field_validator("chat_id", "sender_id")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not value:
            raise ValueError("must not be empty")
        return value

    @field_validator("sent_at")
    @classmethod
    def _rfc3339(cls, value: str) -> str:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
        return value


def parse_event(value: bytes | None, offset: int) -> Message:
    """Decode one record value into a `Message`, or raise `MalformedEvent` saying why."""
    if value is None:
        raise MalformedEvent("empty record value")
    try:
        event = ChatMessageEvent.model_validate_json(value)
    except ValidationError as exc:
        errors = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors()
        )
        raise MalformedEvent(errors) from exc
    return Message(event.id, event.chat_id, event.sender_id, event.text, event.sent_at, offset)


def sent_at_of(message_id: uuid.UUID) -> str:
    """RFC 3339 UTC with milliseconds, taken from the time UUID (as chat-service does)."""
    ms = uuid1_time_ms(message_id)
    whole = datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{whole}.{ms % 1000:03d}Z"


def encode_event(message_id: uuid.UUID, chat_id: str, sender_id: str, text: str) -> bytes:
    """The JSON value chat-service produces for one message."""
    return json.dumps(
        {
            "v": 1,
            "id": str(message_id),
            "chat_id": chat_id,
            "sender_id": sender_id,
            "text": text,
            "sent_at": sent_at_of(message_id),
        }
    ).encode()
