"""A read mark's outbox entry is announced as the contract's `chat.read`."""

import uuid
from datetime import UTC, datetime

from chat_common.contract.events import ChatRead, parse_chat_event
from chat_service.domain.model import Chat
from chat_service.domain.read_marks import read_entry
from chat_service.outbox.events import entry_event


def test_a_read_mark_is_announced_as_chat_read_keyed_by_chat() -> None:
    low, high = sorted((uuid.uuid4(), uuid.uuid4()))
    chat = Chat(uuid.uuid4(), (low, high), datetime(2026, 1, 1, tzinfo=UTC))
    up_to = uuid.uuid1()
    read_at = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    entry = read_entry(chat, high, up_to, read_at)
    event = entry_event(entry)
    assert isinstance(event, ChatRead)
    assert parse_chat_event(event.encode()) == ChatRead(
        chat_id=chat.id, user_id=high, members=(low, high), up_to=up_to, read_at=read_at
    )
    assert event.key() == str(chat.id).encode()
    assert entry.recipient_id == low
