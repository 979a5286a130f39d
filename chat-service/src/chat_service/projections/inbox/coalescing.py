"""Coalescing of Firestore document writes: which documents are due for a write.

Pure (the clock is passed in). A document made dirty by an event is written at most once
per its interval: the first change of a quiet document goes out at the next flush, later
ones wait until the interval after its last write and then go out together (the document
is rewritten whole from the current state, so skipped versions lose nothing). Which Kafka
offsets may be committed meanwhile is the offset ledger's business, not this module's.
"""

from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

Doc = TypeVar("Doc", bound=Hashable)


class Coalescer(Generic[Doc]):
    """Dirty documents, and when each may be written next."""

    def __init__(self, interval_of: Callable[[Doc], float]) -> None:
        self._interval_of = interval_of
        self._dirty: set[Doc] = set()
        self._last_write: dict[Doc, float] = {}

    def changed(self, doc: Doc) -> bool:
        """`doc` must show a new change; True when it was clean until now."""
        if doc in self._dirty:
            return False
        self._dirty.add(doc)
        return True

    def _due_at(self, doc: Doc) -> float:
        return self._last_write.get(doc, float("-inf")) + self._interval_of(doc)

    def due(self, now: float) -> list[Doc]:
        """Dirty documents not written within their interval."""
        return [doc for doc in self._dirty if self._due_at(doc) <= now]

    def next_due(self, now: float) -> float | None:
        """Seconds until the next dirty document is due (0: one is); None when none is dirty."""
        if not self._dirty:
            return None
        return max(0.0, min(self._due_at(doc) for doc in self._dirty) - now)

    def written(self, docs: Iterable[Doc], now: float) -> None:
        """These documents were written (with the state as of now)."""
        for doc in docs:
            self._dirty.discard(doc)
            self._last_write[doc] = now

    def drop(self, docs: Iterable[Doc]) -> None:
        """Forget these documents' changes (another consumer writes them now)."""
        self._dirty.difference_update(docs)

    def forget_written_before(self, cutoff: float) -> None:
        """Drop write times older than `cutoff` (they no longer hold any write back)."""
        self._last_write = {d: t for d, t in self._last_write.items() if t >= cutoff}

    @property
    def pending(self) -> int:
        return len(self._dirty)
