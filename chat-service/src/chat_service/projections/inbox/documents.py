"""The inbox and receipt documents of a chat's counting state (the contract's models).

Every field is always written (null when unknown) and each write replaces the whole
document: the emulator keeps fields a `set()` leaves out, so nothing is ever left out.
"""

import uuid
from datetime import datetime
from typing import Any

from chat_common.contract.documents import (
    InboxDocument,
    LastMessage,
    ReceiptDocument,
    inbox_path,
    receipt_path,
)
from chat_common.contract.events import ChatRead, MessageDeleted, MessageEdited
from chat_service.domain.counting import ChatCounts, InboxEvent

# ("inbox", user, chat) or ("receipt", chat, user): a document the consumer keeps.
DocKey = tuple[str, uuid.UUID, uuid.UUID]


def inbox_key(user_id: uuid.UUID, chat_id: uuid.UUID) -> DocKey:
    return ("inbox", user_id, chat_id)


def receipt_key(chat_id: uuid.UUID, user_id: uuid.UUID) -> DocKey:
    return ("receipt", chat_id, user_id)


def inbox_document(state: ChatCounts, user_id: uuid.UUID, now: datetime) -> InboxDocument:
    last = state.last_message
    other = state.other(user_id)
    return InboxDocument(
        chat_id=state.chat_id,
        other_user_id=other,
        last_message=(
            LastMessage(id=last.id, sender_id=last.sender_id, text=last.text, sent_at=last.sent_at)
            if last
            else None
        ),
        unread=state.unread(user_id),
        read_up_to=state.side(user_id).read_up_to,
        other_read_up_to=state.side(other).read_up_to,
        updated_at=now,
    )


def receipt_document(state: ChatCounts, user_id: uuid.UUID) -> ReceiptDocument | None:
    """None until the member has read anything."""
    side = state.side(user_id)
    if side.read_up_to is None or side.read_at is None:
        return None
    return ReceiptDocument(
        user_id=user_id, members=state.members, read_up_to=side.read_up_to, read_at=side.read_at
    )


def document_write(
    key: DocKey, state: ChatCounts, now: datetime
) -> tuple[str, dict[str, Any]] | None:
    """(path, fields) of the document `key` as `state` has it; None when there is none."""
    kind, first, second = key
    if kind == "inbox":
        return inbox_path(first, second), inbox_document(state, first, now).to_firestore()
    receipt = receipt_document(state, second)
    return None if receipt is None else (receipt_path(first, second), receipt.to_firestore())


def documents_of(state: ChatCounts, event: InboxEvent) -> list[DocKey]:
    """The documents an event changes: both inboxes (a new or opened chat, a read mark),
    and the reader's receipt. An edit or delete of an older message changes no preview,
    so it writes nothing."""
    last = state.last_message
    if isinstance(event, MessageEdited | MessageDeleted) and (last is None or last.id != event.id):
        return []
    keys = [inbox_key(member, state.chat_id) for member in state.members]
    if isinstance(event, ChatRead):
        keys.append(receipt_key(state.chat_id, event.user_id))
    return keys
