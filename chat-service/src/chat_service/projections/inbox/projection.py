"""The inbox projection of `chat-messages` (group `chat-inbox`), one ordered writer per chat.

Per poll: each chat's events are applied in offset order (`applying`), deduplicated by
message id against `counted_message`, and the chat's state is saved; each document an event
changed is held in the offset ledger from that event's offset until it is written, and
written to Firestore at most once a second (`coalescing`). A crash replays from the
committed offset: applied events are skipped by offset, duplicates by message id, and the
documents are rewritten whole from the same state. A `message.deleted` also blanks the
message's text in the chat's live batches (`scrub.DeletedTexts`), at once and after a grace
period.
"""

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiokafka import ConsumerRecord, TopicPartition
from google.cloud.firestore import AsyncClient

from chat_common.consume.ledger import Hold
from chat_common.consume.projection import Item, Ledger, Poison
from chat_common.contract.events import MalformedEvent, parse_chat_event
from chat_service.domain.counting import ChatCounts, InboxEvent
from chat_service.domain.errors import StoreUnavailable
from chat_service.metrics import INBOX_DOCUMENTS_WRITTEN, INBOX_EVENTS_APPLIED
from chat_service.projections.inbox.applying import ChatApplier, CountsLedger, Event
from chat_service.projections.inbox.coalescing import Coalescer
from chat_service.projections.inbox.documents import DocKey, document_write
from chat_service.projections.scrub import DeletedTexts

# Firestore takes at most 500 writes per commit.
_FIRESTORE_BATCH = 500
_MAX_CACHED_CHATS = 50_000
# Write times older than this hold no write back (the longest interval is a few seconds).
_FORGET_WRITES_AFTER_SECONDS = 60.0


@dataclass(eq=False)
class InboxProjection:
    """Unread counts in Cassandra; inbox and receipt documents in Firestore."""

    counts: CountsLedger
    firestore: AsyncClient
    write_interval: float = 1.0
    receipt_interval: float = 4.0
    clock: Callable[[], float] = time.monotonic
    deleted_texts: DeletedTexts | None = None
    # Deleted users (from a tail of user-events): no document of theirs is written again,
    # so the erasure's removal of their inbox and receipts holds.
    is_deleted: Callable[[uuid.UUID], bool] = lambda _user: False
    transient: tuple[type[BaseException], ...] = (StoreUnavailable,)
    documents_written: int = field(init=False, default=0)
    _applier: ChatApplier = field(init=False)
    _coalescer: Coalescer[DocKey] = field(init=False)
    _holds: dict[DocKey, Hold[TopicPartition]] = field(init=False, default_factory=dict)
    _states: dict[uuid.UUID, ChatCounts] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._applier = ChatApplier(self.counts)
        self._coalescer = Coalescer(self._interval_of)

    def _interval_of(self, key: DocKey) -> float:
        return self.receipt_interval if key[0] == "receipt" else self.write_interval

    def decode(self, record: ConsumerRecord) -> InboxEvent | None:
        try:
            event = parse_chat_event(record.value)
        except MalformedEvent as exc:
            raise Poison(str(exc)) from exc
        return event if isinstance(event, InboxEvent) else None

    async def apply(self, partition: TopicPartition, items: Sequence[Item], ledger: Ledger) -> None:
        by_chat: dict[uuid.UUID, list[Event]] = {}
        for offset, event in items:
            by_chat.setdefault(event.chat_id, []).append((offset, event))
        await asyncio.gather(
            *(
                self._apply_chat(partition, chat_id, events, ledger)
                for chat_id, events in by_chat.items()
            )
        )
        if self.deleted_texts is not None:
            await self.deleted_texts.apply(partition, items, ledger)

    async def _apply_chat(
        self, partition: TopicPartition, chat_id: uuid.UUID, events: list[Event], ledger: Ledger
    ) -> None:
        applied = await self._applier.apply(chat_id, self._states.get(chat_id), events)
        INBOX_EVENTS_APPLIED.inc(len(events))
        for key, offset in applied.dirtied:
            if self._coalescer.changed(key) or key not in self._holds:
                hold = ledger.hold(partition, offset, key)
                if hold is not None:
                    self._holds[key] = hold
        self._states[chat_id] = applied.state

    async def flush(self, ledger: Ledger, force: bool) -> None:
        if self.deleted_texts is not None:
            # Not hurried by `force`: an unrepeated scrub stays held, and is replayed.
            await self.deleted_texts.repeats.run_due(ledger)
        now = self.clock()
        due = self._coalescer.due(float("inf") if force else now)
        if not due:
            return
        stamp = datetime.now(UTC)
        writes = []
        kinds: Counter[str] = Counter()
        for key in due:
            chat_id, user_id = (key[2], key[1]) if key[0] == "inbox" else (key[1], key[2])
            if self.is_deleted(user_id):
                continue
            state = self._states.get(chat_id)
            write = document_write(key, state, stamp) if state is not None else None
            if write is not None:
                writes.append(write)
                kinds[key[0]] += 1
        for start in range(0, len(writes), _FIRESTORE_BATCH):
            batch = self.firestore.batch()
            for path, fields in writes[start : start + _FIRESTORE_BATCH]:
                batch.set(self.firestore.document(path), fields)
            await batch.commit()
        self._coalescer.written(due, now)
        ledger.written(self._holds.pop(key) for key in due if key in self._holds)
        self.documents_written += len(writes)
        for kind, count in kinds.items():
            INBOX_DOCUMENTS_WRITTEN.labels(kind).inc(count)
        self._coalescer.forget_written_before(now - _FORGET_WRITES_AFTER_SECONDS)
        if len(self._states) > _MAX_CACHED_CHATS and not self._coalescer.pending:
            self._states.clear()  # reloaded from Cassandra on their next event

    def open_low(self, partition: TopicPartition) -> int | None:
        return None  # every change not yet written is held in the ledger

    def seconds_to_due(self) -> float | None:
        dues = [self._coalescer.next_due(self.clock())]
        if self.deleted_texts is not None:
            dues.append(self.deleted_texts.repeats.seconds_to_due())
        return min((due for due in dues if due is not None), default=None)

    def backlog(self, ledger: Ledger) -> int:
        return self._coalescer.pending

    def assigned(self, partitions: Sequence[TopicPartition]) -> None:
        return None

    def complete(
        self, partitions: Sequence[TopicPartition], ledger: Ledger, stopping: bool
    ) -> None:
        return None  # nothing open: a forced flush writes every changed document

    def forget(self, partitions: Sequence[TopicPartition]) -> None:
        """Revoked partitions' unwritten documents go to the next owner, who replays them;
        cached states are dropped and reloaded (they may change under the next owner)."""
        gone = set(partitions)
        if self.deleted_texts is not None:
            self.deleted_texts.repeats.forget(partitions)
        dropped = [key for key, hold in self._holds.items() if hold.partition in gone]
        for key in dropped:
            del self._holds[key]
        self._coalescer.drop(dropped)
        self._states.clear()
