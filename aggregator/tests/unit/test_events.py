"""What the aggregator takes from `chat-messages`, and what goes to the dead-letter topic.

The event shapes themselves are pinned by chat_common's contract tests.
"""

import uuid
from datetime import UTC, datetime

import pytest

from aggregator.aggregation import Change
from aggregator.events import MalformedEvent, parse_event
from chat_common.contract.events import (
    ChatCreated,
    ChatRead,
    MessageCreated,
    MessageCreatedV1,
    MessageDeleted,
    MessageEdited,
)
from chat_common.contract.times import uuid_time

CHAT, ALICE, BOB = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def test_a_created_message_becomes_a_message_with_members() -> None:
    mid = uuid.uuid1()
    value = MessageCreated.of(mid, CHAT, ALICE, (ALICE, BOB), "héllo").encode()
    message = parse_event(value, offset=42)
    assert message == parse_event(value, offset=42)
    assert (message.id, message.chat_id, message.sender_id, message.text) == (
        mid,
        str(CHAT),
        str(ALICE),
        "héllo",
    )
    assert (message.offset, message.members) == (42, (str(ALICE), str(BOB)))


def test_version_1_is_a_created_message_without_members() -> None:
    mid = uuid.uuid1()
    value = MessageCreatedV1(
        id=mid, chat_id=CHAT, sender_id=ALICE, text="hi", sent_at=uuid_time(mid)
    ).encode()
    message = parse_event(value, offset=7)
    assert (message.id, message.chat_id, message.members) == (mid, str(CHAT), ())


def test_edits_and_deletes_are_aggregated_at_the_time_they_were_made() -> None:
    mid = uuid.uuid1()
    at = datetime(2026, 5, 1, 12, 0, 0, 123_000, tzinfo=UTC)
    common = {"id": mid, "chat_id": CHAT, "sender_id": ALICE, "members": (ALICE, BOB)}
    edit = parse_event(MessageEdited(**common, text="fixed", edited_at=at).encode(), offset=3)
    delete = parse_event(MessageDeleted(**common, deleted_at=at).encode(), offset=4)
    assert (edit.change, edit.text, edit.changed_ms, edit.offset) == (
        Change.EDITED,
        "fixed",
        1_777_636_800_123,
        3,
    )
    assert (delete.change, delete.text, delete.time_ms) == (Change.DELETED, "", 1_777_636_800_123)
    assert edit.key == delete.key == (str(CHAT), str(ALICE))
    assert len({edit.entry_key, delete.entry_key}) == 2


@pytest.mark.parametrize(
    "value",
    [
        ChatRead(
            chat_id=CHAT,
            user_id=BOB,
            members=(ALICE, BOB),
            up_to=uuid.uuid1(),
            read_at=uuid_time(uuid.uuid1()),
        ).encode(),
        ChatCreated(
            chat_id=CHAT, members=(ALICE, BOB), created_at=uuid_time(uuid.uuid1())
        ).encode(),
    ],
    ids=["chat.read", "chat.created"],
)
def test_read_marks_and_opened_chats_are_passed_over_not_parked(value: bytes) -> None:
    assert parse_event(value, offset=0) is None


@pytest.mark.parametrize(
    "value",
    [
        None,
        b"not json",
        MessageCreated.of(uuid.uuid1(), CHAT, ALICE, (ALICE, BOB), "t")
        .encode()
        .replace(str(CHAT).encode(), b"a/b"),
    ],
)
def test_malformed_events_are_refused_with_a_reason(value: bytes | None) -> None:
    with pytest.raises(MalformedEvent) as info:
        parse_event(value, offset=0)
    assert str(info.value)
