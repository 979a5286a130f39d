"""Which document each completed group becomes: plain bookkeeping, no I/O, clock passed in.

A group of window `w` of `(chat_id, sender_id)` is written as the document
`{sender_id}_{w}_{seq}`, where `seq` is the window's first slot not known to be taken.
Documents are only ever created, never changed, so the rules are:

- **No message twice.** A message already in a known document of its window, or already
  planned into an earlier document of the same flush, is left out; a group left empty gets
  no document at all. This is what keeps a duplicate (an outbox re-announce, a replay, a
  redelivery after a crash) from becoming a second document, whether it arrives in the
  same flush as the original, in a later one, or after a restart.
- **Slots are walked, never skipped.** A slot found taken is read by the caller and
  reported with `taken`; its messages become known, and the document moves to the next
  slot without them. Two writers holding the same message walk the same slots from 0, so
  the later one always meets the earlier one's document before it could write it again.
- **A window's new documents go out in one commit** (`chunks`), so where commits are
  atomic (production Firestore) a crash never leaves slot k+1 created without slot k.

What this process knows of a window is forgotten `memory_ms` after it was last used; a
later redelivery then walks the slots again (correct, just a few reads slower).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from aggregator.aggregation import CompletedGroup, EntryKey, Message

WindowKey = tuple[str, str, int]
"""(chat_id, sender_id, window_start_ms)."""


def batch_id(sender_id: str, window_start_ms: int, seq: int) -> str:
    """The deterministic id of a window's `seq`-th batch document."""
    return f"{sender_id}_{window_start_ms}_{seq}"


@dataclass(frozen=True, slots=True)
class PlannedDocument:
    """The document one group becomes: its slot and the messages not yet in a document."""

    group: CompletedGroup
    seq: int
    messages: tuple[Message, ...]

    @property
    def window(self) -> WindowKey:
        return (self.group.chat_id, self.group.sender_id, self.group.window_start_ms)

    @property
    def doc_id(self) -> str:
        return batch_id(self.group.sender_id, self.group.window_start_ms, self.seq)


@dataclass(slots=True)
class _Window:
    """What this process knows of one window's documents (immutable once created)."""

    touched_ms: int
    next_seq: int = 0
    # Entries (a message, an edit, a delete) known to be in a document of the window.
    message_ids: set[EntryKey] = field(default_factory=set)


class SlotPlanner:
    """Known slots per window; plans flushes and re-targets documents whose slot was taken."""

    def __init__(self, memory_ms: int = 600_000) -> None:
        self.memory_ms = memory_ms
        # Least recently touched first, so forgetting stops at the first window to keep: a
        # scan of every window on each flush was a quarter of the aggregator's CPU at 300
        # messages/s (ten minutes of windows are known).
        self._windows: OrderedDict[WindowKey, _Window] = OrderedDict()

    def _window(self, key: WindowKey, now_ms: int) -> _Window:
        known = self._windows.get(key)
        if known is None:
            known = self._windows[key] = _Window(now_ms)
        elif now_ms > known.touched_ms:
            known.touched_ms = now_ms
            self._windows.move_to_end(key)
        return known

    def plan(self, groups: Iterable[CompletedGroup], now_ms: int) -> list[PlannedDocument]:
        """One document per group that still holds a message in no document; in order."""
        self._forget(now_ms)
        planned: list[PlannedDocument] = []
        # Within one flush, several groups of a window (a size split, an eager message and
        # its duplicate, a backlog replayed after a restart) take consecutive slots.
        next_seq: dict[WindowKey, int] = {}
        claimed: dict[WindowKey, set[EntryKey]] = {}
        for group in groups:
            key = (group.chat_id, group.sender_id, group.window_start_ms)
            known = self._window(key, now_ms)
            taken = claimed.setdefault(key, set())
            fresh: list[Message] = []
            for message in group.messages:
                entry = message.entry_key
                if entry not in known.message_ids and entry not in taken:
                    taken.add(entry)
                    fresh.append(message)
            if fresh:
                seq = next_seq.get(key, known.next_seq)
                next_seq[key] = seq + 1
                planned.append(PlannedDocument(group, seq, tuple(fresh)))
        return planned

    def created(self, document: PlannedDocument, now_ms: int) -> None:
        """`document` was created at its slot."""
        known = self._window(document.window, now_ms)
        known.message_ids.update(m.entry_key for m in document.messages)
        known.next_seq = max(known.next_seq, document.seq + 1)

    def taken(
        self, document: PlannedDocument, held: Iterable[EntryKey], now_ms: int
    ) -> PlannedDocument | None:
        """`document`'s slot already holds the messages `held`: where to try next, if anywhere."""
        known = self._window(document.window, now_ms)
        known.message_ids.update(held)
        known.next_seq = max(known.next_seq, document.seq + 1)
        return self.retarget(document, now_ms)

    def retarget(self, document: PlannedDocument, now_ms: int) -> PlannedDocument | None:
        """`document` at the window's first unknown slot, without messages known written."""
        known = self._window(document.window, now_ms)
        rest = tuple(m for m in document.messages if m.entry_key not in known.message_ids)
        if not rest:
            return None
        return replace(document, seq=known.next_seq, messages=rest)

    def _forget(self, now_ms: int) -> None:
        # A clock that steps back can leave a window behind one touched earlier; it is then
        # forgotten late, which only costs memory (forgetting is never needed for
        # correctness, and a window forgotten is walked again).
        horizon = now_ms - self.memory_ms
        while self._windows and next(iter(self._windows.values())).touched_ms < horizon:
            self._windows.popitem(last=False)

    @property
    def windows(self) -> int:
        return len(self._windows)


def by_window(plan: Iterable[PlannedDocument]) -> list[list[PlannedDocument]]:
    """`plan`'s documents per window, in order; windows are independent of each other."""
    windows: dict[WindowKey, list[PlannedDocument]] = {}
    for document in plan:
        windows.setdefault(document.window, []).append(document)
    return list(windows.values())


def chunks(plan: Sequence[PlannedDocument], limit: int) -> list[list[PlannedDocument]]:
    """Split `plan` into commits of at most `limit` documents, a window's documents together.

    Only a window with more than `limit` new documents in one flush is split across commits.
    """
    out: list[list[PlannedDocument]] = []
    current: list[PlannedDocument] = []
    for documents in by_window(plan):
        if current and len(current) + len(documents) > limit:
            out.append(current)
            current = []
        for document in documents:
            if len(current) == limit:
                out.append(current)
                current = []
            current.append(document)
    if current:
        out.append(current)
    return out
