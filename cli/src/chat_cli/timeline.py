"""Merging history with realtime batches: each message once, oldest first.

Pure logic (no I/O). Order is the order of the version-1 time UUIDs the chat service
gives messages: their 100-ns timestamp, then the id itself to break ties.
"""

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chat_cli.models import Message
from chat_common.contract.documents import BatchDocument
from chat_common.contract.times import min_time_uuid, rfc3339_millis, time_order, unix_micros


def time_key(message_id: str) -> tuple[int, str]:
    """Sort key of a message: its time UUID's timestamp, then the id."""
    return time_order(uuid.UUID(message_id))


def unix_seconds(message_id: str) -> float:
    """When a message was sent (Unix seconds), from its version-1 UUID."""
    return unix_micros(uuid.UUID(message_id)) / 1_000_000


def parse_before(value: str) -> str:
    """`--before`: a time UUID as given (e.g. a page's next_time), or an ISO 8601 time.

    An ISO time becomes the smallest time UUID of that instant, so every message of that
    instant (and later) sorts after it; a time without a zone is UTC.
    """
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        pass
    else:
        if parsed.version != 1:
            raise ValueError("a message time must be a version-1 (time) UUID")
        return str(parsed)
    try:
        instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError("expected a time UUID or an ISO 8601 time") from exc
    return str(min_time_uuid(instant))


@dataclass(frozen=True)
class Batch:
    """One Firestore batch document: the messages one sender sent in one window."""

    id: str
    chat_id: str
    sender_id: str
    count: int
    completed_by: str | None
    messages: tuple[Message, ...]
    # (message id, new text) and message ids: what the sender changed in this window.
    edits: tuple[tuple[str, str], ...] = ()
    deletes: tuple[str, ...] = ()

    @classmethod
    def from_document(cls, doc_id: str, data: Mapping[str, Any]) -> "Batch":
        """The batch read as the contract's `BatchDocument`, its messages as the API's."""
        doc = BatchDocument.from_firestore(data)
        chat_id, sender_id = str(doc.chat_id), str(doc.sender_id)
        messages = tuple(
            Message(
                id=str(item.id),
                chat_id=chat_id,
                sender_id=sender_id,
                text=item.text,
                sent_at=rfc3339_millis(item.sent_at),
            )
            for item in doc.messages
        )
        return cls(
            id=doc_id,
            chat_id=chat_id,
            sender_id=sender_id,
            count=doc.count,
            completed_by=doc.completed_by,
            messages=messages,
            edits=tuple((str(e.id), e.text) for e in doc.edits),
            deletes=tuple(str(d.id) for d in doc.deletes),
        )


class Timeline:
    """What a watcher has printed; decides which messages of new batches to print, and when.

    Batches of one sender arrive in order, but not across senders: the aggregator sends a
    quiet sender's first message at once and the burst behind it when its window closes,
    so another sender's message can arrive between them although it was sent after the
    burst began. A terminal cannot insert lines above, so new messages are held for
    `hold_seconds` after they were sent and released oldest first; a message of the other
    sender that was sent earlier has arrived by then. 0 prints at once (order may vary).
    """

    def __init__(self, hold_seconds: float = 0.0) -> None:
        self.hold_seconds = hold_seconds
        self.seen: set[str] = set()
        self.pending: list[Message] = []
        # Messages older than the oldest history shown belong to older pages: not printed.
        self.floor: tuple[int, str] | None = None

    def add_history(self, page: Iterable[Message]) -> list[Message]:
        """A history page (any order) as it is to be printed: oldest first."""
        messages = sorted(page, key=lambda m: time_key(m.id))
        fresh = [m for m in messages if m.id not in self.seen]
        self.seen.update(m.id for m in fresh)
        if messages:
            oldest = time_key(messages[0].id)
            self.floor = oldest if self.floor is None else min(self.floor, oldest)
        return fresh

    def add_batches(self, batches: Iterable[Batch], now: float) -> list[Message]:
        """Take these batches' new messages; return those due to print (`release`)."""
        self.pending.extend(self._unseen(batches))
        return self.release(now)

    def release(self, now: float) -> list[Message]:
        """The held messages sent at least `hold_seconds` before `now`, oldest first."""
        self.pending.sort(key=lambda m: time_key(m.id))
        due = 0
        while (
            due < len(self.pending)
            and unix_seconds(self.pending[due].id) + self.hold_seconds <= now
        ):
            due += 1
        released, self.pending = self.pending[:due], self.pending[due:]
        return released

    def flush(self) -> list[Message]:
        """Every held message, oldest first (the watcher is stopping)."""
        return self.release(float("inf"))

    def _unseen(self, batches: Iterable[Batch]) -> list[Message]:
        candidates: dict[str, Message] = {}
        for batch in batches:
            for message in batch.messages:
                if message.id in self.seen:
                    continue
                if self.floor is not None and time_key(message.id) < self.floor:
                    continue
                candidates[message.id] = message
        fresh = sorted(candidates.values(), key=lambda m: time_key(m.id))
        self.seen.update(candidates)
        return fresh
