import json
from datetime import UTC, datetime
from typing import Any

from chat_common.contract.times import min_time_uuid
from chat_service.api.realtime import BatchEvent, parse_since
from chat_service.api.sse import sse_event

CHAT, SENDER = "5d9f3e0c-0000-4000-8000-000000000001", "a11ce000-0000-4000-8000-000000000002"
M1, M2 = (
    str(min_time_uuid(datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=UTC))),
    str(min_time_uuid(datetime(2026, 1, 2, 3, 4, 5, 500000, tzinfo=UTC))),
)
DOC = {
    "chat_id": CHAT,
    "sender_id": SENDER,
    "members": [SENDER, "b0b00000-0000-4000-8000-000000000003"],
    "count": 2,
    "messages": [
        {"id": M1, "text": "hi", "sent_at": "2026-01-02T03:04:05.006Z"},
        {"id": M2, "text": "there\nfriend", "sent_at": "2026-01-02T03:04:05.500Z"},
    ],
    "edits": [],
    "deletes": [],
    "first_sent_at": datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=UTC),
    "last_sent_at": datetime(2026, 1, 2, 3, 4, 5, 500000, tzinfo=UTC),
    "created_at": datetime(2026, 1, 2, 3, 4, 6, tzinfo=UTC),
    "expire_at": datetime(2026, 1, 2, 4, 4, 6, tzinfo=UTC),
    "completed_by": "window",
}


def body(frame: str) -> dict[str, Any]:
    lines = frame.split("\n")
    parsed: dict[str, Any] = json.loads(lines[2].removeprefix("data: "))
    return parsed


def test_a_batch_document_becomes_messages_shaped_like_the_rest_api() -> None:
    sent = body(BatchEvent.from_document("s1_0_0", DOC).to_sse())
    assert sent["count"] == 2
    # The REST API's own message type, as GET /chat/{id} returns it.
    assert sent["messages"][1] == {
        "id": M2,
        "chat_id": CHAT,
        "sender_id": SENDER,
        "text": "there\nfriend",
        "sent_at": "2026-01-02T03:04:05.500Z",
        "edited_at": None,
        "deleted": False,
    }
    assert sent["first_sent_at"] == "2026-01-02T03:04:05.006Z"
    assert sent["last_sent_at"] == "2026-01-02T03:04:05.500Z"


def test_sse_frame_has_resumable_id_and_one_data_line() -> None:
    frame = BatchEvent.from_document("s1_0_0", DOC).to_sse()
    lines = frame.split("\n")
    assert lines[0] == "id: 2026-01-02T03:04:05.500Z"
    assert lines[1] == "event: batch"
    assert lines[2].startswith("data: ")
    # A newline inside a message must not break the frame: JSON escapes it.
    assert lines[3:] == ["", ""]
    sent = body(frame)
    assert sent["id"] == "s1_0_0" and [m["id"] for m in sent["messages"]] == [M1, M2]


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
