"""The `moderation` topic (DESIGN.md "Safety"): what users report, for moderators' tools.

`message.reported {chat_id, message, reported_by, reason, reported_at}`, key = chat id. The
message travels as it was when reported (its text, or none once deleted), so a later edit
or delete does not change what a moderator sees.
"""

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chat_common.contract.times import Instant, TimeUUID

MODERATION_TOPIC = "moderation"
REASON_MAX_CHARS = 500


class ReportedMessage(BaseModel):
    """The reported message as stored at the time of the report."""

    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")

    id: TimeUUID
    sender_id: uuid.UUID
    text: str | None
    sent_at: Instant
    edited_at: Instant | None = None
    deleted_at: Instant | None = None


class MessageReported(BaseModel):
    """`message.reported` on `moderation`: a member reported a message of their chat."""

    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")

    v: Literal[2] = 2
    type: Literal["message.reported"] = "message.reported"
    chat_id: uuid.UUID
    message: ReportedMessage
    reported_by: uuid.UUID
    reason: str = Field(min_length=1, max_length=REASON_MAX_CHARS)
    reported_at: Instant

    def encode(self) -> bytes:
        """The record value: compact JSON in DESIGN.md's field order."""
        return self.model_dump_json().encode()

    def key(self) -> bytes:
        """Record key: the chat id, so one chat's reports stay ordered."""
        return str(self.chat_id).encode()


def parse_report(value: bytes) -> MessageReported:
    """The report in a `moderation` record value (pydantic's ValidationError otherwise)."""
    return MessageReported.model_validate_json(value)
