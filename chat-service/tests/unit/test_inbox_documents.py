"""Which documents an event dirties, and what an opened chat's inbox entries say."""

import uuid
from datetime import UTC, datetime

from chat_common.contract.documents import InboxDocument, inbox_path
from chat_common.contract.events import ChatCreated, ChatRead, MessageDeleted, MessageEdited
from chat_common.contract.times import min_time_uuid
from chat_service.domain.counting import ChatCounts, apply_change, apply_created, apply_read
from chat_service.projections.inbox.documents import (
    document_write,
    documents_of,
    inbox_key,
    receipt_key,
)

ALICE, BOB = sorted((uuid.uuid4(), uuid.uuid4()))
CHAT = uuid.uuid4()
NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
OPENED = ChatCreated(chat_id=CHAT, members=(ALICE, BOB), created_at=NOW)
BOTH_INBOXES = [inbox_key(ALICE, CHAT), inbox_key(BOB, CHAT)]


def message_id(second: int) -> uuid.UUID:
    return min_time_uuid(datetime.fromtimestamp(1_700_000_000 + second, UTC))


def with_messages(*seconds: int) -> ChatCounts:
    """A chat with Alice's messages of these seconds, at offsets from 0."""
    state = ChatCounts(CHAT, (ALICE, BOB))
    for offset, second in enumerate(seconds):
        state = apply_created(state, offset, ALICE, message_id(second), f"m{second}")
    return state


def test_an_opened_chat_shows_in_both_inboxes_with_nothing_yet() -> None:
    state = apply_change(ChatCounts(CHAT, (ALICE, BOB)), 0, OPENED)
    assert documents_of(state, OPENED) == BOTH_INBOXES
    for member, other in ((ALICE, BOB), (BOB, ALICE)):
        path, fields = document_write(inbox_key(member, CHAT), state, NOW) or ("", {})
        assert path == inbox_path(member, CHAT)
        assert fields == {
            "chat_id": str(CHAT),
            "other_user_id": str(other),
            "last_message": None,
            "unread": 0,
            "read_up_to": None,
            "other_read_up_to": None,
            "updated_at": NOW,
        }
        assert InboxDocument.from_firestore(fields).updated_at == NOW
    # No receipt before a read.
    assert document_write(receipt_key(CHAT, ALICE), state, NOW) is None


def test_an_opened_chat_announced_again_after_messages_clears_nothing() -> None:
    state = with_messages(1, 2, 3)
    state = apply_read(state, 3, BOB, message_id(1), NOW, covered=1)
    again = apply_change(state, 4, OPENED)
    assert again == state.as_of(4)
    assert documents_of(again, OPENED) == BOTH_INBOXES
    for key in BOTH_INBOXES:
        assert document_write(key, again, NOW) == document_write(key, state, NOW)
    _, fields = document_write(inbox_key(BOB, CHAT), again, NOW) or ("", {})
    bob = InboxDocument.from_firestore(fields)
    assert bob.unread == 2 and bob.read_up_to == message_id(1)
    assert bob.last_message is not None and bob.last_message.id == message_id(3)


def test_a_read_also_writes_the_readers_receipt() -> None:
    read = ChatRead(
        chat_id=CHAT, user_id=BOB, members=(ALICE, BOB), up_to=message_id(1), read_at=NOW
    )
    state = apply_read(with_messages(1), 1, BOB, read.up_to, NOW, covered=1)
    assert documents_of(state, read) == [*BOTH_INBOXES, receipt_key(CHAT, BOB)]
    path, fields = document_write(receipt_key(CHAT, BOB), state, NOW) or ("", {})
    assert (fields["user_id"], fields["read_up_to"]) == (str(BOB), str(message_id(1)))


def test_an_edit_or_delete_of_an_older_message_writes_nothing() -> None:
    state = with_messages(1, 2)
    about = {"chat_id": CHAT, "sender_id": ALICE, "members": (ALICE, BOB)}
    for id_, dirties in ((message_id(1), []), (message_id(2), BOTH_INBOXES)):
        edit = MessageEdited(id=id_, **about, text="new", edited_at=NOW)
        delete = MessageDeleted(id=id_, **about, deleted_at=NOW)
        assert documents_of(apply_change(state, 2, edit), edit) == dirties
        assert documents_of(apply_change(state, 2, delete), delete) == dirties
