"""Edits and deletes in the aggregation: same key as messages, windowed at their own time,
deduplicated like messages, and written as a document's `edits` / `deletes`."""

import dataclasses
from datetime import UTC, datetime

from aggregator.aggregation import AggregationConfig, Aggregator, Change, CompletedBy, Message
from aggregator.entries import document_lists, held_entries
from aggregator.sink import batch_document
from aggregator.slot_planner import SlotPlanner
from chat_common.contract.documents import BatchDocument

from .test_aggregation import T0, msg
from .test_slot_planner import FakeStore, group, write


def change(of: Message, kind: Change, at_ms: int, offset: int, text: str = "") -> Message:
    return dataclasses.replace(of, change=kind, changed_ms=at_ms, offset=offset, text=text)


def test_an_edit_is_windowed_at_its_own_time_and_deduplicated() -> None:
    original = msg(T0, 0)
    aggregator = Aggregator(AggregationConfig(window_ms=1000))
    (eager,) = aggregator.add(original, now_ms=T0)
    assert eager.completed_by is CompletedBy.EAGER
    edit = change(original, Change.EDITED, T0 + 5000, 1, "fixed")
    (edited,) = aggregator.add(edit, now_ms=T0 + 5000)  # quiet sender: eager again
    assert edited.window_start_ms == T0 + 5000 and edited.messages == (edit,)
    again = change(original, Change.EDITED, T0 + 5000, 2, "fixed")  # a re-announce
    delete = change(original, Change.DELETED, T0 + 5100, 3)
    assert aggregator.add(again, now_ms=T0 + 5100) == []
    assert aggregator.add(delete, now_ms=T0 + 5100) == []
    (closed,) = aggregator.expire(now_ms=T0 + 7000)
    assert closed.messages == (again, delete)  # the duplicate is held once, as one entry


def test_document_lists_and_held_entries_round_trip() -> None:
    sent = msg(T0, 0, text="hello")
    edit = change(sent, Change.EDITED, T0 + 10, 1, "hullo")
    delete = change(sent, Change.DELETED, T0 + 20, 2)
    fields = batch_document(
        "00000000-0000-0000-0000-000000000001",
        "00000000-0000-0000-0000-000000000002",
        [sent, edit, delete],
        "window",
        datetime(2030, 1, 1, tzinfo=UTC),
        ttl=datetime(2030, 1, 2, tzinfo=UTC) - datetime(2030, 1, 1, tzinfo=UTC),
    )
    document = BatchDocument.from_firestore(fields)
    assert [m.text for m in document.messages] == ["hello"] and document.count == 1
    assert [(e.id, e.text) for e in document.edits] == [(sent.id, "hullo")]
    assert [d.id for d in document.deletes] == [sent.id]
    assert sorted(held_entries(fields)) == sorted(m.entry_key for m in (sent, edit, delete))
    messages, edits, deletes = document_lists([edit])
    assert (messages, deletes) == ([], []) and edits[0].edited_at.microsecond == 10_000


def test_a_redelivered_edit_after_a_restart_is_written_once() -> None:
    store = FakeStore()
    edit = change(msg(T0, 0), Change.EDITED, T0 + 3, 0, "x")
    assert write(SlotPlanner(), store, [group(edit)], 0) == 1
    # A new process (nothing known) gets the same edit again: the walk finds it in slot 0.
    assert write(SlotPlanner(), store, [group(dataclasses.replace(edit, offset=9))], 0) == 0
    assert store.copies() == {edit.entry_key: 1}
