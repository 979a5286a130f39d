import json
import uuid
from datetime import UTC, datetime

from cassandra.util import uuid_from_time

from chat_common.contract.events import ChatCreated, MessageCreated, parse_chat_event
from chat_common.contract.times import is_time_uuid
from chat_service.domain.model import Chat, Message, OutboxEntry
from chat_service.domain.timeuuids import new_message_id
from chat_service.outbox.events import created_event, entry_event


def test_a_stored_message_is_announced_as_the_contracts_message_created() -> None:
    message_id = uuid_from_time(datetime(2024, 5, 1, 12, 0, 0, 7000, tzinfo=UTC))
    chat_id, sender_id, recipient_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    message = Message(id=message_id, chat_id=chat_id, sender_id=sender_id, text="é")
    entry = OutboxEntry(message_id, message, 0, recipient_id, datetime(2024, 1, 1, tzinfo=UTC))
    event = created_event(entry)
    assert event.key() == str(chat_id).encode()
    assert json.loads(event.encode()) == {
        "v": 2,
        "type": "message.created",
        "id": str(message_id),
        "chat_id": str(chat_id),
        "sender_id": str(sender_id),
        "members": [str(m) for m in sorted((sender_id, recipient_id))],
        "text": "é",
        "sent_at": "2024-05-01T12:00:00.007Z",
    }
    assert isinstance(parse_chat_event(event.encode()), MessageCreated)


def test_an_opened_chat_is_announced_as_chat_created_at_the_chats_own_time() -> None:
    low, high = sorted((uuid.uuid4(), uuid.uuid4()))
    chat = Chat(uuid.uuid4(), (low, high), datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC))
    # Whoever opens it, and however often: the same event.
    events = [
        entry_event(OutboxEntry.chat_created(new_message_id(), chat, caller))
        for caller in (high, low, high)
    ]
    assert events[0] == events[1] == events[2]
    assert parse_chat_event(events[0].encode()) == ChatCreated(
        chat_id=chat.id, members=(low, high), created_at=chat.created_at
    )
    assert events[0].key() == str(chat.id).encode()
    entry = OutboxEntry.chat_created(new_message_id(), chat, high)
    # The outbox row keeps a time UUID in its message id column; there is no message.
    assert entry.recipient_id == low and is_time_uuid(entry.message.id)
