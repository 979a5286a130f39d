"""Coalesced document writes (fake clock)."""

from chat_service.projections.inbox.coalescing import Coalescer


def every_second(_doc: str) -> float:
    return 1.0


def test_a_quiet_document_goes_out_at_once_and_a_busy_one_once_a_second() -> None:
    coalescer: Coalescer[str] = Coalescer(every_second)
    assert coalescer.changed("inbox")
    assert coalescer.due(now=100.0) == ["inbox"]
    coalescer.written(["inbox"], now=100.0)
    for step in range(9):
        coalescer.changed("inbox")
        assert coalescer.due(now=100.0 + 0.1 * step) == []
    assert coalescer.next_due(now=100.5) == 0.5
    assert coalescer.due(now=101.0) == ["inbox"]


def test_a_document_is_dirty_once_until_written() -> None:
    coalescer: Coalescer[str] = Coalescer(every_second)
    assert coalescer.changed("a") is True
    assert coalescer.changed("a") is False
    assert coalescer.pending == 1
    coalescer.written(["a"], now=0.0)
    assert (coalescer.pending, coalescer.next_due(now=0.0)) == (0, None)
    assert coalescer.changed("a") is True


def test_dropped_documents_are_no_longer_due() -> None:
    coalescer: Coalescer[str] = Coalescer(every_second)
    coalescer.changed("a")
    coalescer.changed("b")
    coalescer.drop(["a"])
    assert coalescer.due(now=0.0) == ["b"]


def test_a_document_kind_may_have_an_interval_of_its_own() -> None:
    coalescer: Coalescer[str] = Coalescer(lambda doc: 2.5 if doc == "receipt" else 1.0)
    for doc in ("inbox", "receipt"):
        coalescer.changed(doc)
    coalescer.written(coalescer.due(now=0.0), now=0.0)
    for doc in ("inbox", "receipt"):
        coalescer.changed(doc)
    assert coalescer.due(now=1.0) == ["inbox"]
    assert sorted(coalescer.due(now=2.5)) == ["inbox", "receipt"]
