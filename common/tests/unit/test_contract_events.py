"""The Kafka events: exact wire shapes, round trips, and what strict parsing refuses."""

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from chat_common.contract.events import (
    ChatCreated,
    ChatRead,
    MalformedEvent,
    MessageCreated,
    MessageCreatedV1,
    MessageDeleted,
    MessageEdited,
    UserDeleted,
    UserSessionsRevoked,
    parse_chat_event,
    parse_user_event,
)
from chat_common.contract.times import min_time_uuid

SENT = datetime(2024, 5, 1, 12, 0, 0, 7000, tzinfo=UTC)
MESSAGE = min_time_uuid(SENT)
CHAT = uuid.UUID("5d9f3e0c-0000-4000-8000-000000000001")
ALICE = uuid.UUID("a11ce000-0000-4000-8000-000000000002")
BOB = uuid.UUID("b0b00000-0000-4000-8000-000000000003")
LATER = datetime(2024, 5, 1, 12, 0, 5, 250000, tzinfo=UTC)


def created() -> dict[str, Any]:
    return {
        "v": 2,
        "type": "message.created",
        "id": str(MESSAGE),
        "chat_id": str(CHAT),
        "sender_id": str(ALICE),
        "members": [str(ALICE), str(BOB)],
        "text": "héllo",
        "sent_at": "2024-05-01T12:00:00.007Z",
    }


def v1() -> dict[str, Any]:
    return {
        "v": 1,
        "id": str(MESSAGE),
        "chat_id": str(CHAT),
        "sender_id": str(ALICE),
        "text": "héllo",
        "sent_at": "2024-05-01T12:00:00.007Z",
    }


def encoded(value: dict[str, Any], **changes: Any) -> bytes:
    value = {**value, **changes}
    return json.dumps({k: v for k, v in value.items() if v is not None}).encode()


def test_message_created_is_encoded_as_designed() -> None:
    event = MessageCreated.of(MESSAGE, CHAT, ALICE, [ALICE, BOB], "héllo")
    assert list(json.loads(event.encode())) == list(created())
    assert json.loads(event.encode()) == created()
    assert event.key() == str(CHAT).encode()


def test_version_1_is_encoded_as_designed_and_read_as_a_created_message() -> None:
    event = MessageCreatedV1(id=MESSAGE, chat_id=CHAT, sender_id=ALICE, text="héllo", sent_at=SENT)
    assert json.loads(event.encode()) == v1()
    parsed = parse_chat_event(encoded(v1()))
    assert parsed == event
    assert isinstance(parsed, MessageCreatedV1) and parsed.members == ()
    assert parsed.key() == str(CHAT).encode()


EVENTS = [
    MessageCreated.of(MESSAGE, CHAT, BOB, (ALICE, BOB), "x" * 4000),
    MessageEdited(
        id=MESSAGE, chat_id=CHAT, sender_id=ALICE, members=(ALICE, BOB), text="", edited_at=LATER
    ),
    MessageDeleted(
        id=MESSAGE, chat_id=CHAT, sender_id=ALICE, members=(ALICE, BOB), deleted_at=LATER
    ),
    ChatRead(chat_id=CHAT, user_id=BOB, members=(ALICE, BOB), up_to=MESSAGE, read_at=LATER),
    ChatCreated(chat_id=CHAT, members=(ALICE, BOB), created_at=SENT),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.type)
def test_every_chat_event_round_trips(event: Any) -> None:
    assert parse_chat_event(event.encode()) == event
    assert event.key() == str(CHAT).encode()
    assert json.loads(event.encode())["v"] == 2


def test_edit_delete_and_read_carry_the_designed_fields() -> None:
    fields = {type(e).__name__: list(json.loads(e.encode())) for e in EVENTS[1:]}
    assert fields == {
        "MessageEdited": [
            "v",
            "type",
            "id",
            "chat_id",
            "sender_id",
            "members",
            "text",
            "edited_at",
        ],
        "MessageDeleted": ["v", "type", "id", "chat_id", "sender_id", "members", "deleted_at"],
        "ChatRead": ["v", "type", "chat_id", "user_id", "members", "up_to", "read_at"],
        "ChatCreated": ["v", "type", "chat_id", "members", "created_at"],
    }
    assert json.loads(EVENTS[1].encode())["edited_at"] == "2024-05-01T12:00:05.250Z"


def test_chat_created_is_encoded_as_designed() -> None:
    event = ChatCreated(chat_id=CHAT, members=(ALICE, BOB), created_at=SENT)
    assert json.loads(event.encode()) == {
        "v": 2,
        "type": "chat.created",
        "chat_id": str(CHAT),
        "members": [str(ALICE), str(BOB)],
        "created_at": "2024-05-01T12:00:00.007Z",
    }


def test_times_are_kept_to_the_millisecond() -> None:
    event = MessageEdited(
        id=MESSAGE,
        chat_id=CHAT,
        sender_id=ALICE,
        members=(ALICE, BOB),
        text="t",
        edited_at=LATER.replace(microsecond=250999),
    )
    assert event.edited_at == LATER
    assert parse_chat_event(event.encode()) == event


def test_user_deleted_round_trips_on_its_own_topic() -> None:
    event = UserDeleted(user_id=ALICE, deleted_at=LATER)
    assert json.loads(event.encode()) == {
        "v": 2,
        "type": "user.deleted",
        "user_id": str(ALICE),
        "deleted_at": "2024-05-01T12:00:05.250Z",
    }
    assert parse_user_event(event.encode()) == event
    assert event.key() == str(ALICE).encode()
    with pytest.raises(MalformedEvent):
        parse_chat_event(event.encode())
    with pytest.raises(MalformedEvent):
        parse_user_event(encoded(created()))


def test_sessions_revoked_round_trips_beside_deletion() -> None:
    event = UserSessionsRevoked(user_id=ALICE, revoked_at=LATER)
    assert json.loads(event.encode()) == {
        "v": 2,
        "type": "user.sessions_revoked",
        "user_id": str(ALICE),
        "revoked_at": "2024-05-01T12:00:05.250Z",
    }
    assert parse_user_event(event.encode()) == event
    assert event.key() == str(ALICE).encode()
    with pytest.raises(MalformedEvent):
        parse_user_event(b'{"v": 2, "type": "user.renamed", "user_id": "%s"}' % str(ALICE).encode())


def test_unknown_extra_fields_are_ignored() -> None:
    parsed = parse_chat_event(encoded(created(), reactions=["+1"]))
    assert parsed == MessageCreated.of(MESSAGE, CHAT, ALICE, (ALICE, BOB), "héllo")


@pytest.mark.parametrize(
    "value",
    [
        None,
        b"",
        b"not json",
        b"[1, 2]",
        encoded(v1(), v=3),
        encoded(v1(), v="1"),
        encoded(v1(), type="message.created"),  # v1 has no type
        encoded(created(), type=None),  # v2 needs one
        encoded(created(), type="message.liked"),
        encoded(created(), chat_id="a/b"),
        encoded(v1(), chat_id="a/b"),
        encoded(created(), sender_id=""),
        encoded(created(), id=str(uuid.uuid4())),  # not a time UUID
        encoded(created(), id="nope"),
        encoded(created(), members=None),
        encoded(created(), members=[str(ALICE)]),
        encoded(created(), members=[str(ALICE), str(ALICE)]),
        encoded(created(), members=[str(BOB), str(uuid.uuid4())]),  # sender not a member
        encoded(created(), text=None),
        encoded(created(), text=5),
        encoded(v1(), sent_at="yesterday"),
        encoded(v1(), sent_at="2024-05-01T12:00:00Z"),
        encoded(v1(), sent_at="2024-05-01T12:00:00.007+00:00"),
        encoded(created(), sent_at="2024-05-01T12:00:00.008Z"),  # not the id's time
        encoded(v1(), sent_at="2024-05-01T12:00:00.008Z"),
        encoded(json.loads(EVENTS[3].encode()), user_id=str(uuid.uuid4())),
        encoded(json.loads(EVENTS[3].encode()), up_to=str(uuid.uuid4())),
        encoded(json.loads(EVENTS[1].encode()), edited_at=None),
        encoded(json.loads(EVENTS[4].encode()), members=[str(ALICE), str(ALICE)]),
        encoded(json.loads(EVENTS[4].encode()), created_at="2024-05-01T12:00:00Z"),
        encoded(json.loads(EVENTS[4].encode()), chat_id=None),
        encoded(json.loads(EVENTS[4].encode()), v=1),
        encoded(v1(), id="nope"),  # refused for the id, whatever sent_at says
    ],
)
def test_malformed_events_are_refused_with_a_reason(value: bytes | None) -> None:
    with pytest.raises(MalformedEvent) as info:
        parse_chat_event(value)
    assert str(info.value)


def test_a_producer_cannot_build_an_event_against_the_contract() -> None:
    with pytest.raises(ValueError):
        MessageCreated.of(uuid.uuid4(), CHAT, ALICE, (ALICE, BOB), "t")
    with pytest.raises(ValueError):
        MessageCreated.of(MESSAGE, CHAT, ALICE, (BOB, uuid.uuid4()), "t")
    with pytest.raises(ValueError):
        MessageCreated.of(MESSAGE, CHAT, ALICE, (ALICE,), "t")
