"""In-memory stand-ins for the inbox projection's stores, for its unit tests: the counts
ledger (Cassandra's `chat_counts` and `counted_message`) and Firestore's batched writes."""

import uuid
from collections.abc import Sequence
from typing import Any

from google.api_core import exceptions as google_errors

from chat_common.contract.times import time_order
from chat_service.domain.counting import ChatCounts
from chat_service.store.counts import StoredCounts


class MemoryLedger:
    """The counts store's contract, in memory: the saved state and the counted messages."""

    def __init__(self) -> None:
        self.saved: ChatCounts | None = None
        self.counted: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
        self.writes: list[str] = []  # "save", or "counted <n rows>", in the order made

    async def load(self, chat_id: uuid.UUID) -> StoredCounts:
        return StoredCounts(self.saved, (None, None))

    async def save(self, state: ChatCounts) -> None:
        # Like the cell timestamps: an older offset never overrides a newer save.
        self.writes.append("save")
        if self.saved is None or state.applied_offset >= self.saved.applied_offset:
            self.saved = state

    async def counted_at(
        self, chat_id: uuid.UUID, sender_id: uuid.UUID, message_id: uuid.UUID
    ) -> int | None:
        return self.counted.get((sender_id, message_id))

    async def record_counted(
        self, chat_id: uuid.UUID, counted: Sequence[tuple[uuid.UUID, uuid.UUID, int]]
    ) -> None:
        self.writes.append(f"counted {len(counted)}")
        for sender_id, message_id, offset in counted:
            self.counted[(sender_id, message_id)] = offset

    async def counted_between(
        self,
        chat_id: uuid.UUID,
        sender_id: uuid.UUID,
        after: uuid.UUID | None,
        up_to: uuid.UUID,
        before_offset: int | None = None,
    ) -> int:
        return sum(
            1
            for (sender, message), offset in self.counted.items()
            if sender == sender_id
            and (after is None or time_order(message) > time_order(after))
            and time_order(message) <= time_order(up_to)
            and (before_offset is None or offset < before_offset)
        )


class MemoryFirestore:
    """Documents by path; `down` makes every commit fail as an unreachable Firestore does."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.commits = 0
        self.down = False

    def document(self, path: str) -> str:
        return path

    def batch(self) -> "MemoryBatch":
        return MemoryBatch(self)


class MemoryBatch:
    def __init__(self, store: MemoryFirestore) -> None:
        self.store = store
        self.writes: list[tuple[str, dict[str, Any]]] = []

    def set(self, path: str, fields: dict[str, Any]) -> None:
        self.writes.append((path, fields))

    async def commit(self) -> None:
        if self.store.down:
            raise google_errors.ServiceUnavailable("Firestore is down")
        self.store.commits += 1
        self.store.docs.update(dict(self.writes))
