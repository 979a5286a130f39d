"""Read marks (DESIGN.md "Chat service additions": `POST /chat/{chat_id}/read`).

A mark moves forward only. It is announced like a message: its outbox row first (the
relay publishes it as `chat.read`, so a 204 survives a crash as a 201 does), then the
mark itself in `chat_counts`, written with the mark's own time as the cell's timestamp
so an older mark can never override a newer one. If the process dies between the two,
the announced event moves the inbox consumer's mark, and the chat list shows the newer
of the two marks (`chat_list`): nothing is lost and nothing needs repairing.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from chat_common.contract.times import unix_micros
from chat_service.domain.counting import newer
from chat_service.domain.errors import NotAMessageOfTheChat
from chat_service.domain.model import READ, Chat, Message, OutboxEntry
from chat_service.domain.timeuuids import new_message_id
from chat_service.store.chats import ChatRepository
from chat_service.store.counts import CountsStore


def read_entry(chat: Chat, user_id: uuid.UUID, up_to: uuid.UUID, read_at: datetime) -> OutboxEntry:
    """The outbox entry that announces a read mark."""
    other = chat.members[1] if user_id == chat.members[0] else chat.members[0]
    return OutboxEntry(
        entry_id=new_message_id(),
        message=Message(id=up_to, chat_id=chat.id, sender_id=user_id, text=""),
        bucket=0,
        recipient_id=other,
        chat_created_at=chat.created_at,
        kind=READ,
        changed_at=read_at,
    )


@dataclass(eq=False)
class ReadMarks:
    """Move a member's read mark forward and announce it."""

    repository: ChatRepository
    counts: CountsStore
    announce: Callable[[OutboxEntry], None]

    async def mark_read(self, chat: Chat, user_id: uuid.UUID, up_to: uuid.UUID) -> None:
        """Mark the chat read up to message `up_to`; an older mark changes nothing."""
        stored = await self.counts.load(chat.id)
        mine = stored.marks[chat.members.index(user_id)]
        applied = stored.state.side(user_id).read_up_to if stored.state else None
        if not (newer(up_to, mine) and newer(up_to, applied)):
            return
        if not await self._is_message(chat.id, up_to):
            raise NotAMessageOfTheChat()
        now = datetime.now(UTC)
        read_at = now.replace(microsecond=now.microsecond - now.microsecond % 1000)
        entry = read_entry(chat, user_id, up_to, read_at)
        await self.repository.outbox.append(entry)
        await self.counts.record_read_mark(chat.id, chat.members, user_id, up_to)
        self.announce(entry)

    async def _is_message(self, chat_id: uuid.UUID, message_id: uuid.UUID) -> bool:
        # The message lives in the newest non-empty bucket starting at or before its second.
        buckets = await self.repository.list_buckets(
            chat_id, unix_micros(message_id) // 1_000_000, 1
        )
        if not buckets:
            return False
        return await self.repository.get_message(chat_id, buckets[0], message_id) is not None
