"""Which Kafka offsets may be committed: plain bookkeeping, no I/O, no clock.

Per assigned partition the ledger knows how far records were handled (aggregated or
dead-lettered), which completed groups are not yet written (each held with the lowest
source offset it covers), and what was committed last. A commit position is the smallest
of: the next record to handle, the lowest offset of an unwritten group, and the lowest
offset still in an open group (the caller asks the aggregator). So it never passes a
message that is not yet in Firestore, and it never goes backwards.

Two awkward moments are handled here rather than in the Kafka loop:

- A record that could be neither aggregated nor dead-lettered is `blocked`: the loop seeks
  back to it, and nothing at or past it counts as handled until it is, even when it is the
  very first record of the partition (then nothing at all is committed).
- A partition revoked while its groups are being written (a revoke in the middle of a
  flush): `revoke` forgets it at once, and a later `written` for its old holds changes
  nothing, even if the same partition has been assigned again in between (a hold is never
  reused).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

P = TypeVar("P", bound=Hashable)
"""A partition (aiokafka's TopicPartition in production, anything hashable in tests)."""
T = TypeVar("T")
"""What is held until written (a completed group)."""


@dataclass(frozen=True, slots=True)
class Hold(Generic[P]):
    """One unwritten payload of one partition; unique for the ledger's lifetime."""

    partition: P
    serial: int


@dataclass(slots=True)
class _Partition:
    next_offset: int | None = None
    blocked_at: int | None = None
    committed: int | None = None


class OffsetLedger(Generic[P, T]):
    """Commit positions per partition, and the payloads not yet written."""

    def __init__(self) -> None:
        self._partitions: dict[P, _Partition] = {}
        # Insertion-ordered: payloads come back in the order they were held.
        self._held: dict[Hold[P], tuple[int, T]] = {}
        self._serials = 0

    # -- assignment ------------------------------------------------------------------

    def assign(self, partition: P) -> None:
        """Start tracking `partition` (a no-op when it is already assigned)."""
        self._partitions.setdefault(partition, _Partition())

    def revoke(self, partition: P) -> list[T]:
        """Forget `partition`; return its unwritten payloads (the next owner gets them again)."""
        self._partitions.pop(partition, None)
        dropped = [h for h in self._held if h.partition == partition]
        return [self._held.pop(h)[1] for h in dropped]

    @property
    def assigned(self) -> list[P]:
        return list(self._partitions)

    def next_offset(self, partition: P) -> int | None:
        """The next record to handle, when known."""
        state = self._partitions.get(partition)
        return None if state is None else state.next_offset

    # -- records ---------------------------------------------------------------------

    def handled(self, partition: P, offset: int) -> None:
        """The record at `offset` is dealt with (aggregated or dead-lettered)."""
        state = self._partitions.get(partition)
        if state is None:
            return
        if state.blocked_at is not None:
            if offset != state.blocked_at:
                return  # a record behind a blocked one: it will be fetched again
            state.blocked_at = None
        if state.next_offset is None or offset + 1 > state.next_offset:
            state.next_offset = offset + 1

    def blocked(self, partition: P, offset: int) -> None:
        """The record at `offset` could not be dealt with and will be fetched again."""
        state = self._partitions.get(partition)
        if state is None:
            return
        state.blocked_at = offset
        if state.next_offset is not None and state.next_offset > offset:
            state.next_offset = offset

    # -- payloads --------------------------------------------------------------------

    def hold(self, partition: P, low_offset: int, payload: T) -> Hold[P] | None:
        """Keep `payload` (covering offsets from `low_offset`) until `written`.

        None when the partition is not assigned: nothing to hold for, nothing to commit.
        """
        if partition not in self._partitions:
            return None
        self._serials += 1
        hold = Hold(partition, self._serials)
        self._held[hold] = (low_offset, payload)
        return hold

    def unwritten(self) -> list[tuple[Hold[P], T]]:
        """Every payload still to write, oldest first."""
        return [(h, payload) for h, (_, payload) in self._held.items()]

    def written(self, holds: Iterable[Hold[P]]) -> None:
        """These payloads are in Firestore; a hold dropped by `revoke` is ignored."""
        for hold in holds:
            self._held.pop(hold, None)

    # -- commits ---------------------------------------------------------------------

    def positions(
        self, open_low: Mapping[P, int | None], only: Iterable[P] | None = None
    ) -> dict[P, int]:
        """Offsets to commit now: per partition, only where it moved forward.

        `open_low` gives each partition's lowest offset still in an open group (None: none).
        """
        lows: dict[P, int] = {}
        for hold, (low, _) in self._held.items():
            lows[hold.partition] = min(lows.get(hold.partition, low), low)
        chosen = self._partitions.keys() if only is None else only
        out: dict[P, int] = {}
        for partition in chosen:
            state = self._partitions.get(partition)
            if state is None or state.next_offset is None:
                continue
            candidates = [state.next_offset]
            if partition in lows:
                candidates.append(lows[partition])
            open_offset = open_low.get(partition)
            if open_offset is not None:
                candidates.append(open_offset)
            position = min(candidates)
            if state.committed is None or position > state.committed:
                out[partition] = position
        return out

    def committed(self, positions: Mapping[P, int]) -> None:
        """The broker accepted these positions."""
        for partition, position in positions.items():
            state = self._partitions.get(partition)
            if state is not None and (state.committed is None or position > state.committed):
                state.committed = position

    def held_count(self, size: Callable[[T], int]) -> int:
        """Total size of what is held (for backpressure), as `size` measures a payload."""
        return sum(size(payload) for _, payload in self._held.values())
