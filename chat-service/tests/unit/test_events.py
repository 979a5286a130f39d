import json
import uuid
from datetime import UTC, datetime

from cassandra.util import uuid_from_time

from chat_common.contract.events import MessageCreated, parse_chat_event
from chat_service.domain import Message, OutboxEntry
from chat_service.events import created_event


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
