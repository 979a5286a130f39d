"""The pure unread counting: bursts, reads, late messages under a mark, replays."""

import uuid
from datetime import UTC, datetime

from chat_common.contract.times import min_time_uuid
from chat_service.domain.counting import (
    PREVIEW_CHARACTERS,
    ChatCounts,
    apply_created,
    apply_deleted,
    apply_edited,
    apply_read,
    is_surely_new,
    mark_moves,
)

ALICE, BOB = sorted((uuid.uuid4(), uuid.uuid4()))
CHAT = uuid.uuid4()
READ_AT = datetime(2026, 1, 1, tzinfo=UTC)


def message_id(second: int) -> uuid.UUID:
    return min_time_uuid(datetime.fromtimestamp(1_700_000_000 + second, UTC))


def fresh() -> ChatCounts:
    return ChatCounts(CHAT, (ALICE, BOB))


def test_a_burst_is_unread_for_the_other_member_only() -> None:
    state = fresh()
    for offset in range(5):
        state = apply_created(state, offset, ALICE, message_id(offset), f"m{offset}")
    assert state.unread(BOB) == 5
    assert state.unread(ALICE) == 0
    assert state.applied_offset == 4
    assert state.last_message is not None and state.last_message.text == "m4"


def test_a_read_covers_what_it_reaches_and_an_older_read_changes_nothing() -> None:
    state = fresh()
    for offset in range(5):
        state = apply_created(state, offset, ALICE, message_id(offset), "hi")
    state = apply_read(state, 5, BOB, message_id(2), READ_AT, covered=3)
    assert state.unread(BOB) == 2
    assert not mark_moves(state, BOB, message_id(1))
    older = apply_read(state, 6, BOB, message_id(1), READ_AT, covered=99)
    assert older.unread(BOB) == 2
    assert older.side(BOB).read_up_to == message_id(2)
    assert older.applied_offset == 6


def test_a_message_arriving_after_a_mark_past_it_is_never_unread() -> None:
    # The read raced the send: the mark (up to second 5) was applied first.
    state = apply_created(fresh(), 0, ALICE, message_id(5), "seen")
    state = apply_read(state, 1, BOB, message_id(5), READ_AT, covered=1)
    late = apply_created(state, 2, ALICE, message_id(3), "older, announced late")
    assert late.unread(BOB) == 0
    assert late.side(ALICE).sent == 2
    newer = apply_created(late, 3, ALICE, message_id(6), "new")
    assert newer.unread(BOB) == 1


def test_replayed_offsets_are_recognised() -> None:
    state = apply_created(fresh(), 7, ALICE, message_id(1), "x")
    assert state.applied(7) and state.applied(3)
    assert not state.applied(8)


def test_only_messages_newer_than_the_senders_newest_are_surely_new() -> None:
    state = apply_created(fresh(), 0, ALICE, message_id(5), "x")
    assert is_surely_new(state, ALICE, message_id(6))
    assert not is_surely_new(state, ALICE, message_id(5))
    assert not is_surely_new(state, ALICE, message_id(4))
    assert is_surely_new(state, BOB, message_id(1))


def test_the_preview_is_cut_and_the_newest_message_wins() -> None:
    state = apply_created(fresh(), 0, BOB, message_id(9), "y" * 500)
    state = apply_created(state, 1, ALICE, message_id(2), "older")
    assert state.last_message is not None
    assert state.last_message.id == message_id(9)
    assert state.last_message.text == "y" * PREVIEW_CHARACTERS


def test_the_preview_follows_an_edit_and_a_delete_of_the_newest_message_only() -> None:
    state = apply_created(fresh(), 0, ALICE, message_id(1), "first")
    state = apply_created(state, 1, BOB, message_id(2), "second")
    older = apply_edited(state, 2, message_id(1), "first, edited")
    assert older.last_message == state.last_message
    assert older.applied_offset == 2
    edited = apply_edited(older, 3, message_id(2), "x" * (PREVIEW_CHARACTERS + 5))
    assert edited.last_message is not None
    assert edited.last_message.text == "x" * PREVIEW_CHARACTERS
    deleted = apply_deleted(edited, 4, message_id(2))
    assert deleted.last_message is not None
    assert (deleted.last_message.id, deleted.last_message.text) == (message_id(2), None)
    assert deleted.unread(ALICE) == 1  # a deleted message was still sent


def test_an_edit_arriving_after_its_delete_changes_nothing() -> None:
    state = apply_created(fresh(), 0, ALICE, message_id(1), "hello")
    state = apply_deleted(state, 1, message_id(1))
    late_edit = apply_edited(state, 2, message_id(1), "resurrected?")
    assert late_edit.last_message is not None and late_edit.last_message.text is None
    assert late_edit.applied_offset == 2
