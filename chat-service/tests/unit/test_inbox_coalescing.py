"""Coalesced document writes and the offsets that may be committed (fake clock)."""

from chat_service.projections.inbox.coalescing import Coalescer


def test_a_quiet_document_goes_out_at_once_and_a_busy_one_once_a_second() -> None:
    coalescer: Coalescer[str, int] = Coalescer(interval=1.0)
    coalescer.changed("inbox", 0, 10)
    assert coalescer.due(now=100.0) == ["inbox"]
    coalescer.written(["inbox"], now=100.0)
    for step, offset in enumerate(range(11, 20)):
        coalescer.changed("inbox", 0, offset)
        assert coalescer.due(now=100.0 + 0.1 * step) == []
    assert coalescer.due(now=101.0) == ["inbox"]


def test_offsets_are_committable_only_behind_unwritten_documents() -> None:
    coalescer: Coalescer[str, int] = Coalescer(interval=1.0)
    coalescer.changed("a", 0, 5)
    coalescer.changed("a", 0, 6)
    coalescer.changed("b", 1, 3)
    coalescer.consumed(0, 6)
    coalescer.consumed(1, 3)
    assert coalescer.committable() == {0: 5, 1: 3}
    coalescer.written(["a"], now=0.0)
    assert coalescer.committable() == {0: 7, 1: 3}
    coalescer.written(["b"], now=0.0)
    assert coalescer.committable() == {0: 7, 1: 4}


def test_revoked_partitions_are_forgotten() -> None:
    coalescer: Coalescer[str, int] = Coalescer(interval=1.0)
    coalescer.changed("a", 0, 5)
    coalescer.consumed(0, 5)
    coalescer.drop_partitions([0])
    assert coalescer.committable() == {}
    assert coalescer.pending == 0


def test_a_document_kind_may_have_an_interval_of_its_own() -> None:
    coalescer: Coalescer[str, int] = Coalescer(1.0, lambda doc: 2.5 if doc == "receipt" else 1.0)
    for doc in ("inbox", "receipt"):
        coalescer.changed(doc, 0, 1)
    coalescer.written(coalescer.due(now=0.0), now=0.0)
    for doc in ("inbox", "receipt"):
        coalescer.changed(doc, 0, 2)
    assert coalescer.due(now=1.0) == ["inbox"]
    assert sorted(coalescer.due(now=2.5)) == ["inbox", "receipt"]
