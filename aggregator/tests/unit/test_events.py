"""Parsing chat message events: what is accepted, what goes to the dead-letter topic."""

import json
import re
import uuid

import pytest

from aggregator.aggregation import uuid1_time_ms
from aggregator.events import MalformedEvent, encode_event, parse_event, sent_at_of


def test_encode_then_parse_round_trips() -> None:
    mid = uuid.uuid1()
    message = parse_event(encode_event(mid, "chat", "alice", "héllo"), offset=42)
    assert (message.id, message.chat_id, message.sender_id, message.text, message.offset) == (
        mid,
        "chat",
        "alice",
        "héllo",
        42,
    )
    assert message.time_ms == uuid1_time_ms(mid)


def test_sent_at_is_rfc3339_utc_with_milliseconds_from_the_uuid() -> None:
    mid = uuid.uuid1()
    value = sent_at_of(mid)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", value)
    assert value.endswith(f"{uuid1_time_ms(mid) % 1000:03d}Z")


def good(**overrides: object) -> bytes:
    event: dict[str, object] = {
        "v": 1,
        "id": str(uuid.uuid1()),
        "chat_id": "c",
        "sender_id": "s",
        "text": "t",
        "sent_at": "2030-01-01T00:00:00.000Z",
    }
    event.update(overrides)
    return json.dumps({k: v for k, v in event.items() if v is not None}).encode()


@pytest.mark.parametrize(
    "value",
    [
        None,
        b"",
        b"not json",
        b"[1, 2]",
        good(v=2),
        good(id=str(uuid.uuid4())),
        good(id="nope"),
        good(chat_id=None),
        good(sender_id=""),
        good(text=None),
        good(sent_at="yesterday"),
    ],
)
def test_malformed_events_are_rejected_with_a_reason(value: bytes | None) -> None:
    with pytest.raises(MalformedEvent) as info:
        parse_event(value, offset=0)
    assert str(info.value)


def test_unknown_extra_fields_are_ignored() -> None:
    assert parse_event(good(extra="x"), offset=0).chat_id == "c"
