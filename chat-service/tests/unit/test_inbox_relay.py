"""The inbox relay's SSE event: the whole contract document, its id the update time."""

import json
import uuid
from datetime import UTC, datetime

from chat_common.contract.documents import InboxDocument, LastMessage
from chat_service.api.inbox_relay import InboxEvent


def test_an_inbox_event_carries_the_document_and_resumes_from_its_update_time() -> None:
    message_id = uuid.uuid1()
    document = InboxDocument(
        chat_id=uuid.uuid4(),
        other_user_id=uuid.uuid4(),
        last_message=LastMessage(
            id=message_id,
            sender_id=uuid.uuid4(),
            text="hi",
            sent_at=datetime(2026, 5, 1, 12, 0, 0, 250_000, tzinfo=UTC),
        ),
        unread=2,
        read_up_to=None,
        other_read_up_to=message_id,
        updated_at=datetime(2026, 5, 1, 12, 0, 1, 500_123, tzinfo=UTC),
    )
    frame = InboxEvent.from_document("ignored", document.to_firestore()).to_sse()
    head, data = frame.split("data: ", 1)
    assert head == "id: 2026-05-01T12:00:01.500Z\nevent: inbox\n"
    assert frame.endswith("\n\n")
    body = json.loads(data)
    assert body["updated_at"] == "2026-05-01T12:00:01.500Z"
    assert body["last_message"]["sent_at"] == "2026-05-01T12:00:00.250Z"
    assert (body["unread"], body["other_read_up_to"], body["read_up_to"]) == (
        2,
        str(message_id),
        None,
    )
    # What the client reads back is the contract's document.
    assert InboxDocument.model_validate(body).chat_id == document.chat_id


def test_an_opened_chat_without_messages_is_forwarded_with_a_null_last_message() -> None:
    document = InboxDocument(
        chat_id=uuid.uuid4(),
        other_user_id=uuid.uuid4(),
        updated_at=datetime(2026, 5, 1, 12, 0, 1, tzinfo=UTC),
    )
    body = json.loads(
        InboxEvent.from_document("x", document.to_firestore()).to_sse().split("data: ", 1)[1]
    )
    assert (body["last_message"], body["unread"], body["read_up_to"]) == (None, 0, None)
    assert InboxDocument.model_validate(body) == document
