"""The event (the contract's) that each kind of outbox entry announces."""

from typing import Any

from chat_common.contract.events import (
    ChatCreated,
    ChatRead,
    MessageCreated,
    MessageDeleted,
    MessageEdited,
)
from chat_service.domain.model import CHAT_CREATED, DELETED, EDITED, READ, OutboxEntry

OutboxEvent = MessageCreated | MessageEdited | MessageDeleted | ChatRead | ChatCreated


def created_event(entry: OutboxEntry) -> MessageCreated:
    """The `message.created` event (the contract's) of a stored message, with its members."""
    message = entry.message
    return MessageCreated.of(
        message.id, message.chat_id, message.sender_id, entry.members, message.text
    )


def entry_event(entry: OutboxEntry) -> OutboxEvent:
    """The event an outbox entry announces: its message created, edited or deleted, a read
    mark, or an opened chat."""
    message, changed_at = entry.message, entry.changed_at
    if entry.kind is None:
        return created_event(entry)
    if entry.kind == CHAT_CREATED:
        return ChatCreated(
            chat_id=message.chat_id, members=entry.members, created_at=entry.chat_created_at
        )
    if changed_at is None:
        raise ValueError(f"outbox entry {entry.entry_id} of kind {entry.kind} has no time")
    if entry.kind == READ:
        return ChatRead(
            chat_id=message.chat_id,
            user_id=message.sender_id,
            members=entry.members,
            up_to=message.id,
            read_at=changed_at,
        )
    # An edit or a delete: made by the message's sender, about that message.
    about: dict[str, Any] = {
        "id": message.id,
        "chat_id": message.chat_id,
        "sender_id": message.sender_id,
        "members": entry.members,
    }
    if entry.kind == EDITED:
        return MessageEdited(**about, text=message.text, edited_at=changed_at)
    if entry.kind == DELETED:
        return MessageDeleted(**about, deleted_at=changed_at)
    raise ValueError(f"outbox entry {entry.entry_id} has an unknown kind {entry.kind!r}")
