import json
from datetime import UTC, datetime

from chat_service.realtime import BatchEvent, parse_since, sse_event

DOC = {
    "chat_id": "c1",
    "sender_id": "s1",
    "count": 2,
    "messages": [
        {"id": "m1", "text": "hi", "sent_at": "2026-01-02T03:04:05.006Z"},
        {"id": "m2", "text": "there\nfriend", "sent_at": "2026-01-02T03:04:05.500Z"},
    ],
    "first_sent_at": datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=UTC),
    "last_sent_at": datetime(2026, 1, 2, 3, 4, 5, 500000, tzinfo=UTC),
    "created_at": datetime(2026, 1, 2, 3, 4, 6, tzinfo=UTC),
    "completed_by": "window",
}


def test_a_batch_document_becomes_messages_shaped_like_the_rest_api() -> None:
    event = BatchEvent.from_document("s1_0_0", DOC)
    assert event.count == 2
    assert event.messages[1] == {
        "id": "m2",
        "chat_id": "c1",
        "sender_id": "s1",
        "text": "there\nfriend",
        "sent_at": "2026-01-02T03:04:05.500Z",
    }
    assert event.first_sent_at == "2026-01-02T03:04:05.006Z"
    assert event.last_sent_at == "2026-01-02T03:04:05.500Z"


def test_sse_frame_has_resumable_id_and_one_data_line() -> None:
    frame = BatchEvent.from_document("s1_0_0", DOC).to_sse()
    lines = frame.split("\n")
    assert lines[0] == "id: 2026-01-02T03:04:05.500Z"
    assert lines[1] == "event: batch"
    assert lines[2].startswith("data: ")
    # A newline inside a message must not break the frame: JSON escapes it.
    assert lines[3:] == ["", ""]
    body = json.loads(lines[2].removeprefix("data: "))
    assert body["id"] == "s1_0_0" and [m["id"] for m in body["messages"]] == ["m1", "m2"]


def test_sse_event() -> None:
    assert sse_event("ready", {"chat_id": "c"}) == 'event: ready\ndata: {"chat_id": "c"}\n\n'


def test_parse_since_reads_rfc3339_and_ignores_garbage() -> None:
    assert parse_since("2026-01-02T03:04:05.500Z") == datetime(
        2026, 1, 2, 3, 4, 5, 500000, tzinfo=UTC
    )
    assert parse_since("2026-01-02T03:04:05") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_since("not a time") is None
    assert parse_since(None) is None
    assert parse_since("") is None
