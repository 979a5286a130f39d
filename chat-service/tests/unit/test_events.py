import json
import uuid
from datetime import UTC, datetime

from cassandra.util import uuid_from_time

from chat_service.events import MessageEvent
from chat_service.models import Message


def test_event_matches_the_contract() -> None:
    message_id = uuid_from_time(datetime(2024, 5, 1, 12, 0, 0, 7000, tzinfo=UTC))
    chat_id, sender_id = uuid.uuid4(), uuid.uuid4()
    event = MessageEvent.of(Message(id=message_id, chat_id=chat_id, sender_id=sender_id, text="é"))
    assert event.key() == str(chat_id).encode()
    assert json.loads(event.value()) == {
        "v": 1,
        "id": str(message_id),
        "chat_id": str(chat_id),
        "sender_id": str(sender_id),
        "text": "é",
        "sent_at": "2024-05-01T12:00:00.007Z",
    }
