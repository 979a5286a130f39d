"""How many SSE relay streams may be open, per user and per pod (pure, no I/O).

Each open stream holds a Firestore listener (a watch thread and a gRPC stream), so the
pod caps them all, and one user cannot take the pod's share by opening tabs.
"""

from collections import Counter
from collections.abc import Hashable


class StreamSlot:
    """One open stream's place; `release` gives it back (once, however often called)."""

    def __init__(self, slots: "StreamSlots", user: Hashable) -> None:
        self._slots = slots
        self._user = user
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._slots._release(self._user)


class StreamSlots:
    """At most `per_user` streams per user and `per_pod` in all."""

    def __init__(self, per_user: int, per_pod: int) -> None:
        self.per_user = per_user
        self.per_pod = per_pod
        self._by_user: Counter[Hashable] = Counter()
        self._total = 0

    def acquire(self, user: Hashable) -> StreamSlot | None:
        """A slot for one more stream of `user`, or None when a cap is reached."""
        if self._total >= self.per_pod or self._by_user[user] >= self.per_user:
            return None
        self._by_user[user] += 1
        self._total += 1
        return StreamSlot(self, user)

    def _release(self, user: Hashable) -> None:
        self._total -= 1
        self._by_user[user] -= 1
        if self._by_user[user] <= 0:
            del self._by_user[user]

    @property
    def open(self) -> int:
        return self._total
