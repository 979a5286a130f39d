"""The document-slot planner, with a fake clock and an in-memory create-only store.

`FakeStore` has the one Firestore behaviour the sink relies on (create fails when the id
is taken, documents never change); `write` drives the planner exactly as the sink does:
batched creates of the plan, and for a taken slot, read it and walk on.
"""

import uuid

from aggregator.aggregation import (
    AggregationConfig,
    Aggregator,
    Change,
    CompletedBy,
    CompletedGroup,
    EntryKey,
    Message,
)
from aggregator.slot_planner import PlannedDocument, SlotPlanner, batch_id, by_window, chunks

from .test_aggregation import T0, msg

WINDOW = AggregationConfig().window_start


class FakeStore:
    """Documents by id, each the entries (messages, edits, deletes) it holds; create-only."""

    def __init__(self) -> None:
        self.docs: dict[str, list[EntryKey]] = {}

    def create(self, document: PlannedDocument) -> bool:
        if document.doc_id in self.docs:
            return False
        self.docs[document.doc_id] = [m.entry_key for m in document.messages]
        return True

    def copies(self) -> dict[EntryKey, int]:
        counts: dict[EntryKey, int] = {}
        for ids in self.docs.values():
            for i in ids:
                counts[i] = counts.get(i, 0) + 1
        return counts


def write(planner: SlotPlanner, store: FakeStore, groups: list[CompletedGroup], now: int) -> int:
    """What the sink does with one flush; returns the number of documents created."""
    created = 0
    for planned in planner.plan(groups, now):
        current: PlannedDocument | None = planner.retarget(planned, now)
        while current is not None:
            if store.create(current):
                planner.created(current, now)
                created += 1
                break
            current = planner.taken(current, store.docs[current.doc_id], now)
    return created


def group(*messages: Message, reason: CompletedBy = CompletedBy.WINDOW) -> CompletedGroup:
    first = messages[0]
    return CompletedGroup(first.chat_id, first.sender_id, WINDOW(first.time_ms), messages, reason)


def test_ids_are_deterministic_from_sender_window_and_slot() -> None:
    a, b = msg(T0 + 1, 0), msg(T0 + 2, 1)
    plans = [SlotPlanner().plan([group(a), group(b)], now_ms=0) for _ in range(2)]
    assert [p.doc_id for p in plans[0]] == [p.doc_id for p in plans[1]]
    assert [p.doc_id for p in plans[0]] == [batch_id("alice", T0, 0), batch_id("alice", T0, 1)]


def test_groups_of_other_windows_or_keys_each_start_at_slot_zero() -> None:
    plan = SlotPlanner().plan(
        [group(msg(T0, 0)), group(msg(T0 + 1000, 1)), group(msg(T0, 2, sender="bob"))], 0
    )
    assert [p.seq for p in plan] == [0, 0, 0]


def test_duplicate_after_eager_in_the_same_flush_is_one_document() -> None:
    # The consumer is behind: the eager message and its duplicate's group complete together.
    agg = Aggregator(AggregationConfig(window_ms=1000))
    m, n = msg(T0 + 100, 0), msg(T0 + 200, 2)
    again = msg(T0 + 100, 1)  # the same message id, redelivered at offset 1
    assert again.id == m.id
    groups = agg.add(m, T0 + 100) + agg.add(again, T0 + 101) + agg.add(n, T0 + 102)
    groups += agg.expire(T0 + 5000)
    assert [g.completed_by for g in groups] == [CompletedBy.EAGER, CompletedBy.WINDOW]
    planner, store = SlotPlanner(), FakeStore()
    plan = planner.plan(groups, 0)
    assert [[x.id for x in p.messages] for p in plan] == [[m.id], [n.id]]
    assert write(planner, store, groups, 0) == 2
    assert store.copies() == {m.entry_key: 1, n.entry_key: 1}


def test_a_group_holding_only_duplicates_gets_no_document() -> None:
    m = msg(T0, 0)
    plan = SlotPlanner().plan([group(m, reason=CompletedBy.EAGER), group(m)], 0)
    assert len(plan) == 1


def test_duplicate_in_a_later_flush_writes_nothing() -> None:
    planner, store = SlotPlanner(), FakeStore()
    m = msg(T0, 0)
    assert write(planner, store, [group(m, reason=CompletedBy.EAGER)], 0) == 1
    assert planner.plan([group(msg(T0, 5))], 10) == []
    assert write(planner, store, [group(msg(T0, 5))], 10) == 0
    assert store.copies() == {m.entry_key: 1}


def test_duplicate_after_a_restart_walks_the_taken_slots() -> None:
    store = FakeStore()
    m, n, o = msg(T0, 0), msg(T0 + 1, 1), msg(T0 + 2, 2)
    before = SlotPlanner()
    write(before, store, [group(m, reason=CompletedBy.EAGER), group(n)], 0)
    # A fresh process (nothing known) gets all of it again, plus one new message.
    after = SlotPlanner()
    created = write(after, store, [group(m, reason=CompletedBy.EAGER), group(m, n, o)], 0)
    assert created == 1
    assert store.copies() == {m.entry_key: 1, n.entry_key: 1, o.entry_key: 1}
    assert store.docs[batch_id("alice", T0, 2)] == [o.entry_key]
    # And once more: everything is known now, nothing is even planned.
    assert after.plan([group(m, n, o)], 0) == []


def test_an_id_already_taken_moves_the_document_on_without_what_the_slot_holds() -> None:
    planner = SlotPlanner()
    m, n = msg(T0, 0), msg(T0 + 1, 1)
    (planned,) = planner.plan([group(m, n)], 0)
    retry = planner.taken(planned, [m.entry_key, (Change.CREATED, uuid.uuid1(), 0)], 0)
    assert retry is not None and retry.seq == 1 and retry.messages == (n,)
    assert planner.taken(retry, [n.entry_key], 0) is None  # all of it was there already


def test_slots_in_one_flush_follow_what_is_known() -> None:
    planner, store = SlotPlanner(), FakeStore()
    write(planner, store, [group(msg(T0, 0)), group(msg(T0 + 1, 1))], 0)
    plan = planner.plan([group(msg(T0 + 2, 2)), group(msg(T0 + 3, 3))], 0)
    assert [p.seq for p in plan] == [2, 3]


def test_racing_writers_never_put_a_message_in_two_documents() -> None:
    store = FakeStore()
    ms = [msg(T0 + i, i) for i in range(6)]
    one, two = SlotPlanner(), SlotPlanner()
    write(one, store, [group(*ms[:4])], 0)
    write(two, store, [group(*ms[2:])], 0)
    write(one, store, [group(*ms)], 0)
    assert store.copies() == {m.entry_key: 1 for m in ms}


def test_known_windows_are_forgotten_after_the_memory_and_walked_again() -> None:
    planner, store = SlotPlanner(memory_ms=1000), FakeStore()
    m = msg(T0, 0)
    write(planner, store, [group(m)], now=0)
    assert planner.windows == 1
    assert planner.plan([], now_ms=500) == [] and planner.windows == 1
    assert planner.plan([], now_ms=1001) == [] and planner.windows == 0
    # Forgotten, the duplicate is planned at slot 0 again, and the walk finds it there.
    (planned,) = planner.plan([group(m)], now_ms=1002)
    assert planned.seq == 0
    assert write(planner, store, [group(m)], now=1002) == 0
    assert store.copies() == {m.entry_key: 1}


def test_a_window_used_again_is_remembered_from_its_last_use() -> None:
    planner, store = SlotPlanner(memory_ms=1000), FakeStore()
    old, busy = msg(T0, 0), msg(T0 + 1000, 1)
    write(planner, store, [group(old)], now=0)
    write(planner, store, [group(busy)], now=100)
    # The first window is used again later than the second: it is now the one to keep.
    write(planner, store, [group(old, msg(T0 + 1, 2))], now=900)
    assert planner.plan([], now_ms=1101) == [] and planner.windows == 1
    assert planner.plan([group(old)], now_ms=1101) == []  # still known: nothing to plan
    assert planner.plan([], now_ms=2101) == [] and planner.windows == 1
    assert planner.plan([], now_ms=2102) == [] and planner.windows == 0


def test_chunks_keep_a_windows_documents_in_one_commit() -> None:
    plan = SlotPlanner().plan(
        [group(msg(T0 + i, i, sender=s)) for s in ("a", "b", "c") for i in range(3)], 0
    )
    out = chunks(plan, limit=4)
    assert [[p.group.sender_id for p in chunk] for chunk in out] == [
        ["a", "a", "a"],
        ["b", "b", "b"],
        ["c", "c", "c"],
    ]
    assert sum(len(c) for c in chunks(plan, limit=6)) == 9 and len(chunks(plan, limit=6)) == 2


def test_by_window_keeps_each_windows_documents_in_slot_order() -> None:
    plan = SlotPlanner().plan(
        [group(msg(T0, 0)), group(msg(T0, 1, sender="bob")), group(msg(T0 + 1, 2))], 0
    )
    assert [[(p.group.sender_id, p.seq) for p in w] for w in by_window(plan)] == [
        [("alice", 0), ("alice", 1)],
        [("bob", 0)],
    ]


def test_chunks_split_only_a_window_bigger_than_a_commit() -> None:
    plan = SlotPlanner().plan([group(msg(T0 + i, i)) for i in range(5)], 0)
    assert [len(c) for c in chunks(plan, limit=2)] == [2, 2, 1]
    assert chunks([], limit=2) == []
