"""Coalescing of Firestore document writes, and the Kafka offsets that may be committed.

Pure (the clock is passed in). A document made dirty by an event is written at most once
per `interval` seconds: the first change of a quiet document goes out at the next flush,
later ones wait until `interval` after its last write and then go out together (the
document is rewritten whole from the current state, so skipped versions lose nothing).
An offset is committable only once every document it dirtied has been written: a crash
replays from there, rebuilds the same state and writes the same documents again.
"""

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Doc = TypeVar("Doc", bound=Hashable)
Part = TypeVar("Part", bound=Hashable)


@dataclass
class _Dirty(Generic[Part]):
    # The lowest offset per partition whose change this document has not written yet.
    first_offsets: dict[Part, int] = field(default_factory=dict)


class Coalescer(Generic[Doc, Part]):
    """Which documents are due for a write, and how far each partition may be committed."""

    def __init__(self, interval: float, interval_of: Callable[[Doc], float] | None = None) -> None:
        # `interval_of` gives some documents an interval of their own.
        self._interval_of = interval_of or (lambda _doc: interval)
        self._dirty: dict[Doc, _Dirty[Part]] = {}
        self._last_write: dict[Doc, float] = {}
        self._next_offset: dict[Part, int] = {}

    def changed(self, doc: Doc, partition: Part, offset: int) -> None:
        """`doc` must show the event at (`partition`, `offset`)."""
        dirty = self._dirty.setdefault(doc, _Dirty())
        dirty.first_offsets.setdefault(partition, offset)

    def consumed(self, partition: Part, offset: int) -> None:
        """Every event of `partition` up to `offset` has been applied to the state."""
        self._next_offset[partition] = max(self._next_offset.get(partition, 0), offset + 1)

    def due(self, now: float) -> list[Doc]:
        """Dirty documents not written within the last `interval` seconds."""
        return [
            doc
            for doc in self._dirty
            if now - self._last_write.get(doc, float("-inf")) >= self._interval_of(doc)
        ]

    def written(self, docs: Iterable[Doc], now: float) -> None:
        """These documents were written (with the state as of now)."""
        for doc in docs:
            self._dirty.pop(doc, None)
            self._last_write[doc] = now

    def forget_written_before(self, cutoff: float) -> None:
        """Drop write times older than `cutoff` (they no longer hold any write back)."""
        self._last_write = {d: t for d, t in self._last_write.items() if t >= cutoff}

    def committable(self) -> dict[Part, int]:
        """Per partition, the offset to commit: the first one some unwritten document still
        needs, else the one after the last consumed."""
        offsets = dict(self._next_offset)
        for dirty in self._dirty.values():
            for partition, first in dirty.first_offsets.items():
                if partition in offsets:
                    offsets[partition] = min(offsets[partition], first)
        return offsets

    def drop_partitions(self, partitions: Iterable[Part]) -> None:
        """Forget revoked partitions (their uncommitted events go to the next owner)."""
        gone = set(partitions)
        for partition in gone:
            self._next_offset.pop(partition, None)
        for doc in list(self._dirty):
            offsets = self._dirty[doc].first_offsets
            for partition in gone:
                offsets.pop(partition, None)
            if not offsets:
                del self._dirty[doc]

    @property
    def pending(self) -> int:
        return len(self._dirty)
