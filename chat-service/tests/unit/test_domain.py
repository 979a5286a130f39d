import uuid
from datetime import UTC, datetime, timedelta

from chat_service.domain.model import Chat, ChatActivity, chat_id_for


def test_chat_id_is_the_same_whoever_starts() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    assert chat_id_for(a, b) == chat_id_for(b, a)


def test_chat_id_differs_per_pair() -> None:
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert chat_id_for(a, b) != chat_id_for(a, c)


def test_activity_is_last_message_else_creation() -> None:
    created = datetime(2024, 1, 1, tzinfo=UTC)
    a, b = sorted((uuid.uuid4(), uuid.uuid4()))
    chat = Chat(id=chat_id_for(a, b), members=(a, b), created_at=created)
    assert ChatActivity(chat, None).active_at == created
    later = created + timedelta(hours=1)
    assert ChatActivity(chat, later).active_at == later
    assert chat.has_member(a) and not chat.has_member(uuid.uuid4())
