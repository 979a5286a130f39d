import json
import uuid
from datetime import UTC, datetime

import pytest
from cassandra.util import uuid_from_time
from pydantic import ValidationError

from chat_common.contract.moderation import (
    REASON_MAX_CHARS,
    MessageReported,
    ReportedMessage,
    parse_report,
)

SENT = datetime(2026, 12, 7, 8, 0, 0, 123000, tzinfo=UTC)
MESSAGE_ID = uuid_from_time(SENT.timestamp())
CHAT, ALICE, BOB = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def report(reason: str = "spam", text: str | None = "buy now") -> MessageReported:
    return MessageReported(
        chat_id=CHAT,
        message=ReportedMessage(id=MESSAGE_ID, sender_id=BOB, text=text, sent_at=SENT),
        reported_by=ALICE,
        reason=reason,
        reported_at=SENT,
    )


def test_a_report_round_trips_in_design_order() -> None:
    event = report()
    encoded = json.loads(event.encode())
    fields = ["v", "type", "chat_id", "message", "reported_by", "reason", "reported_at"]
    assert list(encoded) == fields
    assert encoded["type"] == "message.reported"
    assert encoded["message"]["sent_at"] == "2026-12-07T08:00:00.123Z"
    assert parse_report(event.encode()) == event
    assert event.key() == str(CHAT).encode()


def test_a_deleted_message_travels_without_text() -> None:
    assert parse_report(report(text=None).encode()).message.text is None


@pytest.mark.parametrize("reason", ["", "x" * (REASON_MAX_CHARS + 1)])
def test_reason_bounds(reason: str) -> None:
    with pytest.raises(ValidationError):
        report(reason=reason)
