"""The Aggregator EIP (after Apache Camel), in plain Python: no I/O, clock passed in.

Messages are correlated by `(chat_id, sender_id)` and appended to a group ordered by
message id. A group completes, and records why (like Camel's `CamelAggregatedCompletedBy`):

- `size`: it holds `max_messages` messages;
- `bytes`: the next message would push its estimated document size over `max_bytes`;
- `window`: its message-time window has ended (wall clock past the window end plus a
  small lateness allowance), or a later-window message of the same key arrived;
- `eager`: the message came from a sender quiet for a whole window: it goes out alone,
  at once, and the burst behind it is aggregated (a producer's linger, inverted);
- `stop` / `revoke`: forced by `complete_all` on shutdown or partition revocation.

A message dated more than `max_future_ms` ahead of the clock is refused (`FutureDated`):
its group could not complete before that time, and would hold back every offset commit
of its partition until then.

Windows are aligned on message time (`window_start = time - time % window_ms`), so the
window a message belongs to is a function of the message alone. The sink relies on that:
batch ids are `{sender_id}_{window_start_ms}_{seq}`, and a redelivered message always
lands in the same window's sequence of documents, whatever the consumer saw before.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum

from chat_common.contract.times import UUID_EPOCH_OFFSET, time_order, unix_millis

# Per-message overhead of a batch document entry: field names, map and array encoding.
_MESSAGE_OVERHEAD_BYTES = 64
# A message's `sent_at` in the document: `2024-05-01T12:00:00.123Z`.
_SENT_AT_BYTES = 24
# The document's own fields (chat_id, sender_id, count, timestamps, names, the id path).
DOCUMENT_OVERHEAD_BYTES = 1024


class CompletedBy(StrEnum):
    """Why a group completed."""

    SIZE = "size"
    BYTES = "bytes"
    WINDOW = "window"
    EAGER = "eager"
    STOP = "stop"
    REVOKE = "revoke"


class FutureDated(ValueError):
    """The message's time is too far ahead of the clock to aggregate; it goes to the DLQ."""


CorrelationKey = tuple[str, str]
"""(chat_id, sender_id)."""


class Change(StrEnum):
    """What an entry records of its message: its creation, an edit or its deletion."""

    CREATED = "created"
    EDITED = "edited"
    DELETED = "deleted"


EntryKey = tuple[Change, uuid.UUID, int]
"""What makes an entry unique: (change, message id, time of an edit or delete, else 0).

A redelivered or re-announced entry has the same key; two edits of one message do not."""


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message as the aggregator sees it.

    `offset` is the message's position in its source (a Kafka offset); the core only
    tracks the smallest one still held, so the caller knows how far it may commit.
    Its time is the id's (a version-1 UUID); `members` are the chat's, empty when the
    event did not carry them (version 1). An edit or a delete of a message is aggregated
    the same way (same correlation key: only the sender changes a message), at the time
    of the change (`changed_ms`), not the message's.
    """

    id: uuid.UUID
    chat_id: str
    sender_id: str
    text: str
    offset: int
    members: tuple[str, ...] = ()
    change: Change = Change.CREATED
    changed_ms: int | None = None

    @property
    def entry_key(self) -> EntryKey:
        return (self.change, self.id, self.changed_ms or 0)

    @property
    def key(self) -> CorrelationKey:
        return (self.chat_id, self.sender_id)

    @property
    def order(self) -> tuple[int, str, str]:
        """Ordering by time: the UUID's timestamp (or the change's), the id for ties."""
        if self.changed_ms is None:
            ticks, text_id = time_order(self.id)
        else:
            ticks, text_id = self.changed_ms * 10_000 + UUID_EPOCH_OFFSET, str(self.id)
        return ticks, text_id, self.change

    @property
    def time_ms(self) -> int:
        return unix_millis(self.id) if self.changed_ms is None else self.changed_ms

    @property
    def size_bytes(self) -> int:
        """Conservative estimate of this message's share of a Firestore document."""
        return (
            len(self.text.encode()) + len(str(self.id)) + _SENT_AT_BYTES + _MESSAGE_OVERHEAD_BYTES
        )


@dataclass(frozen=True, slots=True)
class AggregationConfig:
    """Completion conditions; `lateness_ms` waits for stragglers after a window ends.

    `max_future_ms` bounds how far ahead of the clock a message's time may be.
    """

    window_ms: int = 1000
    max_messages: int = 100
    max_bytes: int = 900_000
    lateness_ms: int = 200
    max_future_ms: int = 60_000

    def __post_init__(self) -> None:
        if self.window_ms <= 0 or self.max_messages <= 0 or self.lateness_ms < 0:
            raise ValueError("window_ms and max_messages must be positive, lateness_ms >= 0")
        if self.max_future_ms < 0:
            raise ValueError("max_future_ms must be >= 0")
        if self.max_bytes <= DOCUMENT_OVERHEAD_BYTES:
            raise ValueError("max_bytes must leave room for the document's own fields")

    def window_start(self, time_ms: int) -> int:
        return time_ms - time_ms % self.window_ms


@dataclass(frozen=True, slots=True)
class CompletedGroup:
    """A completed aggregate: messages of one key and window, ordered by message id."""

    chat_id: str
    sender_id: str
    window_start_ms: int
    messages: tuple[Message, ...]
    completed_by: CompletedBy

    @property
    def key(self) -> CorrelationKey:
        return (self.chat_id, self.sender_id)

    @property
    def min_offset(self) -> int:
        return min(m.offset for m in self.messages)


@dataclass(slots=True)
class _OpenGroup:
    chat_id: str
    sender_id: str
    window_start_ms: int
    by_id: dict[EntryKey, Message] = field(default_factory=dict)
    size_bytes: int = DOCUMENT_OVERHEAD_BYTES
    min_offset: int | None = None

    def add(self, message: Message) -> None:
        if self.min_offset is None or message.offset < self.min_offset:
            self.min_offset = message.offset
        if message.entry_key in self.by_id:
            # A redelivered duplicate: the group already holds it once.
            return
        self.by_id[message.entry_key] = message
        self.size_bytes += message.size_bytes

    def complete(self, reason: CompletedBy) -> CompletedGroup:
        ordered = tuple(sorted(self.by_id.values(), key=lambda m: m.order))
        return CompletedGroup(self.chat_id, self.sender_id, self.window_start_ms, ordered, reason)


class Aggregator:
    """Open groups of one source (one Kafka partition), driven by `add` and `expire`."""

    def __init__(self, config: AggregationConfig) -> None:
        self.config = config
        # One open group per (key, window); a late message reopens its window's group.
        self._open: dict[tuple[CorrelationKey, int], _OpenGroup] = {}
        # Windows open per key, so a message looks only at its own key's groups.
        self._windows: dict[CorrelationKey, set[int]] = {}
        # Latest message time per key, for the eager-first rule.
        self._last_seen: dict[CorrelationKey, int] = {}

    def _pop(self, key: CorrelationKey, window: int) -> _OpenGroup:
        windows = self._windows[key]
        windows.discard(window)
        if not windows:
            del self._windows[key]
        return self._open.pop((key, window))

    def add(self, message: Message, now_ms: int) -> list[CompletedGroup]:
        """Aggregate `message`; return the groups this completes (possibly none).

        Raises `FutureDated`, changing nothing, for a message too far ahead of `now_ms`.
        """
        cfg = self.config
        key = message.key
        time_ms = message.time_ms
        if time_ms - now_ms > cfg.max_future_ms:
            raise FutureDated(f"message time is {time_ms - now_ms} ms ahead of the clock")
        window = cfg.window_start(time_ms)
        completed: list[CompletedGroup] = []

        # A message from a later window means the sender has moved on: earlier windows
        # of the key are done, no need to wait for the wall clock.
        for earlier in sorted(w for w in self._windows.get(key, ()) if w < window):
            completed.append(self._pop(key, earlier).complete(CompletedBy.WINDOW))

        last = self._last_seen.get(key)
        self._last_seen[key] = time_ms if last is None else max(last, time_ms)
        if (last is None or time_ms - last >= cfg.window_ms) and (key, window) not in self._open:
            single = _OpenGroup(message.chat_id, message.sender_id, window)
            single.add(message)
            completed.append(single.complete(CompletedBy.EAGER))
            return completed

        group = self._open.get((key, window))
        if group is not None and group.by_id and message.entry_key not in group.by_id:
            if group.size_bytes + message.size_bytes > cfg.max_bytes:
                completed.append(self._pop(key, window).complete(CompletedBy.BYTES))
                group = None
        if group is None:
            group = _OpenGroup(message.chat_id, message.sender_id, window)
            self._open[(key, window)] = group
            self._windows.setdefault(key, set()).add(window)
        group.add(message)
        if len(group.by_id) >= cfg.max_messages:
            completed.append(self._pop(key, window).complete(CompletedBy.SIZE))
        return completed

    def expire(self, now_ms: int) -> list[CompletedGroup]:
        """Complete every group whose window ended (plus lateness) by `now_ms`."""
        cfg = self.config
        done = [k for k in self._open if k[1] + cfg.window_ms + cfg.lateness_ms <= now_ms]
        completed = [self._pop(*k).complete(CompletedBy.WINDOW) for k in done]
        # Forget keys quiet for longer than a window: their next message is eager anyway.
        horizon = now_ms - cfg.window_ms - cfg.lateness_ms
        for key in [
            k for k, t in self._last_seen.items() if t < horizon and k not in self._windows
        ]:
            del self._last_seen[key]
        return completed

    def complete_all(self, reason: CompletedBy) -> list[CompletedGroup]:
        """Force-complete every open group (shutdown or partition revocation)."""
        completed = [group.complete(reason) for group in self._open.values()]
        self._open.clear()
        self._windows.clear()
        return completed

    def oldest_offset(self) -> int | None:
        """Smallest source offset still held in an open group: commit no further."""
        offsets = [g.min_offset for g in self._open.values() if g.min_offset is not None]
        return min(offsets) if offsets else None

    def next_deadline_ms(self) -> int | None:
        """Wall-clock time at which `expire` will next complete something."""
        cfg = self.config
        ends = [k[1] + cfg.window_ms + cfg.lateness_ms for k in self._open]
        return min(ends) if ends else None

    @property
    def open_groups(self) -> int:
        return len(self._open)

    @property
    def open_messages(self) -> int:
        return sum(len(g.by_id) for g in self._open.values())
