"""The Firestore documents: the fields written, read back, and the collection paths."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from chat_common.contract.documents import (
    BatchDelete,
    BatchDocument,
    BatchEdit,
    BatchMessage,
    InboxDocument,
    LastMessage,
    ReceiptDocument,
    batch_path,
    chat_batches,
    chat_receipts,
    inbox_path,
    receipt_path,
    user_inbox,
)
from chat_common.contract.times import min_time_uuid

CHAT = uuid.UUID("5d9f3e0c-0000-4000-8000-000000000001")
ALICE = uuid.UUID("a11ce000-0000-4000-8000-000000000002")
BOB = uuid.UUID("b0b00000-0000-4000-8000-000000000003")
T0 = datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=UTC)
FIRST = min_time_uuid(T0)
SECOND = min_time_uuid(T0 + timedelta(milliseconds=494, microseconds=999))
NOW = datetime(2026, 1, 2, 3, 4, 6, tzinfo=UTC)
SENT_TEXT = "2026-01-02T03:04:05.006Z"


def batch() -> BatchDocument:
    return BatchDocument.of(
        chat_id=CHAT,
        sender_id=ALICE,
        members=(ALICE, BOB),
        messages=[BatchMessage.of(FIRST, "hi"), BatchMessage.of(SECOND, "there\nfriend")],
        created_at=NOW,
        ttl=timedelta(hours=1),
        completed_by="window",
    )


def test_batch_document_fields_are_the_designed_ones() -> None:
    assert batch().to_firestore() == {
        "chat_id": str(CHAT),
        "sender_id": str(ALICE),
        "members": (str(ALICE), str(BOB)),
        "messages": (
            {"id": str(FIRST), "text": "hi", "sent_at": "2026-01-02T03:04:05.006Z"},
            {"id": str(SECOND), "text": "there\nfriend", "sent_at": "2026-01-02T03:04:05.500Z"},
        ),
        "edits": (),
        "deletes": (),
        "count": 2,
        "first_sent_at": datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=UTC),
        "last_sent_at": datetime(2026, 1, 2, 3, 4, 5, 500000, tzinfo=UTC),
        "created_at": NOW,
        "expire_at": NOW + timedelta(hours=1),
        "completed_by": "window",
    }


def test_batch_document_round_trips_through_firestore_fields() -> None:
    fields = batch().to_firestore()
    # Firestore hands arrays back as lists and may add fields of its own.
    read = {**fields, "members": list(fields["members"]), "messages": list(fields["messages"])}
    assert BatchDocument.from_firestore({**read, "unknown": 1}) == batch()


def test_edits_and_deletes_are_carried_and_span_the_times() -> None:
    edited, deleted = T0 + timedelta(seconds=2), T0 + timedelta(seconds=3)
    doc = BatchDocument.of(
        chat_id=CHAT,
        sender_id=ALICE,
        members=(ALICE, BOB),
        messages=[],
        edits=[BatchEdit(id=FIRST, text="fixed", edited_at=edited)],
        deletes=[BatchDelete(id=SECOND, deleted_at=deleted)],
        created_at=NOW,
        ttl=timedelta(hours=1),
    )
    fields = doc.to_firestore()
    assert fields["edits"] == (
        {"id": str(FIRST), "text": "fixed", "edited_at": "2026-01-02T03:04:07.006Z"},
    )
    assert fields["deletes"] == ({"id": str(SECOND), "deleted_at": "2026-01-02T03:04:08.006Z"},)
    assert (fields["count"], fields["first_sent_at"], fields["last_sent_at"]) == (
        0,
        edited,
        deleted,
    )
    assert BatchDocument.from_firestore(fields) == doc


def test_a_batch_holds_something() -> None:
    with pytest.raises(ValueError):
        BatchDocument.of(
            chat_id=CHAT, sender_id=ALICE, members=(), messages=[], created_at=NOW, ttl=timedelta()
        )


def test_a_document_written_before_the_second_wave_reads_with_empty_lists() -> None:
    fields = batch().to_firestore()
    for name in ("members", "edits", "deletes", "completed_by"):
        del fields[name]
    doc = BatchDocument.from_firestore(fields)
    assert (doc.members, doc.edits, doc.deletes, doc.completed_by) == ((), (), (), None)
    assert doc.messages == batch().messages


@pytest.mark.parametrize(
    "change",
    [
        {"chat_id": "a/b"},
        {
            "messages": [
                {"id": str(uuid.uuid4()), "text": "t", "sent_at": "2026-01-02T03:04:05.006Z"}
            ]
        },
        {"messages": [{"id": str(FIRST), "text": "t", "sent_at": "yesterday"}]},
        {"count": None},
    ],
)
def test_a_document_that_is_not_a_batch_is_refused(change: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        BatchDocument.from_firestore({**batch().to_firestore(), **change})


def test_inbox_document_round_trips() -> None:
    doc = InboxDocument(
        chat_id=CHAT,
        other_user_id=BOB,
        last_message=LastMessage(id=SECOND, sender_id=BOB, text="yo", sent_at=T0),
        unread=3,
        read_up_to=FIRST,
        other_read_up_to=None,
        updated_at=NOW,
    )
    fields = doc.to_firestore()
    assert fields == {
        "chat_id": str(CHAT),
        "other_user_id": str(BOB),
        "last_message": {
            "id": str(SECOND),
            "sender_id": str(BOB),
            "text": "yo",
            "sent_at": "2026-01-02T03:04:05.006Z",
        },
        "unread": 3,
        "read_up_to": str(FIRST),
        "other_read_up_to": None,
        "updated_at": NOW,
    }
    assert InboxDocument.from_firestore(fields) == doc
    fresh = InboxDocument(chat_id=CHAT, other_user_id=BOB, updated_at=NOW)
    assert InboxDocument.from_firestore(fresh.to_firestore()) == fresh
    with pytest.raises(ValidationError):
        InboxDocument.from_firestore({**fields, "unread": -1})


def test_receipt_document_round_trips() -> None:
    doc = ReceiptDocument(user_id=BOB, members=(ALICE, BOB), read_up_to=SECOND, read_at=NOW)
    fields = doc.to_firestore()
    assert fields == {
        "user_id": str(BOB),
        "members": (str(ALICE), str(BOB)),
        "read_up_to": str(SECOND),
        "read_at": NOW,
    }
    assert ReceiptDocument.from_firestore({**fields, "members": list(fields["members"])}) == doc


def test_paths() -> None:
    assert chat_batches(CHAT) == f"chats/{CHAT}/batches"
    assert batch_path(CHAT, "s_0_0") == f"chats/{CHAT}/batches/s_0_0"
    assert user_inbox(ALICE) == f"users/{ALICE}/chats"
    assert inbox_path(ALICE, CHAT) == f"users/{ALICE}/chats/{CHAT}"
    assert chat_receipts(CHAT) == f"chats/{CHAT}/receipts"
    assert receipt_path(CHAT, BOB) == f"chats/{CHAT}/receipts/{BOB}"
