"""Reports (DESIGN.md "Safety"): a member reports a message of their chat; the message, as
it is at that moment, goes to the `moderation` topic as `message.reported`."""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from chat_common.contract.moderation import MessageReported, ReportedMessage
from chat_service.domain.errors import MessageNotFound
from chat_service.domain.model import Chat, Message


class MessageLookup(Protocol):
    async def find(
        self, chat_id: uuid.UUID, message_id: uuid.UUID
    ) -> tuple[Message, int] | None: ...


# topic, value, key; raises when Kafka did not acknowledge the record.
Send = Callable[[str, bytes, bytes], Awaitable[None]]


@dataclass(eq=False)
class Reports:
    messages: MessageLookup
    send: Send
    topic: str
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    async def report(
        self, chat: Chat, reporter: uuid.UUID, message_id: uuid.UUID, reason: str
    ) -> MessageReported:
        """Publish the report (acknowledged by Kafka) and return it; MessageNotFound when
        the chat has no such message."""
        found = await self.messages.find(chat.id, message_id)
        if found is None:
            raise MessageNotFound()
        message = found[0]
        event = MessageReported(
            chat_id=chat.id,
            message=ReportedMessage(
                id=message.id,
                sender_id=message.sender_id,
                text=None if message.deleted else message.text,
                sent_at=message.sent_at,
                edited_at=message.edited_at,
                deleted_at=message.deleted_at,
            ),
            reported_by=reporter,
            reason=reason,
            reported_at=self.clock(),
        )
        await self.send(self.topic, event.encode(), event.key())
        return event
