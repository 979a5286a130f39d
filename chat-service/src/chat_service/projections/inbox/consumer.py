"""The inbox consumer: group `chat-inbox` of `chat-messages`, one ordered writer per chat.

Per poll: each chat's events are applied in offset order (`applying`), deduplicated by
message id against `counted_message`, and the chat's state is saved; the documents they
changed are written to Firestore at most once a second each (`coalescing`); offsets are
committed only up to the first event whose documents are not written yet. A crash
replays from the committed offset: applied events are skipped by offset, duplicates by
message id, and the documents are rewritten whole from the same state.
"""

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from google.cloud.firestore import AsyncClient

from chat_common.contract.events import MalformedEvent, parse_chat_event
from chat_common.kafka_rebalance import ForwardingListener
from chat_service.domain.counting import ChatCounts, InboxEvent
from chat_service.metrics import INBOX_EVENTS_APPLIED
from chat_service.projections.inbox.applying import ChatApplier, Event
from chat_service.projections.inbox.coalescing import Coalescer
from chat_service.projections.inbox.documents import DocKey, document_write
from chat_service.store.counts import CountsStore

logger = logging.getLogger(__name__)

_POLL_MS = 200
_POLL_RECORDS = 500
# Firestore takes at most 500 writes per commit.
_FIRESTORE_BATCH = 500
_MAX_CACHED_CHATS = 50_000


@dataclass(eq=False)
class InboxConsumer:
    """Run until `stop`: apply events, write due documents, commit behind them."""

    consumer: AIOKafkaConsumer
    counts: CountsStore
    firestore: AsyncClient
    topic: str
    write_interval: float = 1.0
    receipt_interval: float = 4.0
    clock: Callable[[], float] = time.monotonic
    # Set once partitions are assigned and their start positions fixed (tests wait on it).
    assigned: asyncio.Event = field(init=False, default_factory=asyncio.Event)
    documents_written: int = field(init=False, default=0)
    _applier: ChatApplier = field(init=False)
    _coalescer: Coalescer[DocKey, TopicPartition] = field(init=False)
    _states: dict[uuid.UUID, ChatCounts] = field(init=False, default_factory=dict)
    _lock: asyncio.Lock = field(init=False, default_factory=asyncio.Lock)
    _stopping: asyncio.Event = field(init=False, default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self._applier = ChatApplier(self.counts)
        self._coalescer = Coalescer(self.write_interval, self._interval_of)

    def _interval_of(self, key: DocKey) -> float:
        return self.receipt_interval if key[0] == "receipt" else self.write_interval

    def subscribe(self) -> None:
        self.consumer.subscribe(
            [self.topic], listener=ForwardingListener(self.revoked, self.assigned_to)
        )

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            batches: dict[TopicPartition, list[ConsumerRecord]] = {}
            try:
                batches = await self.consumer.getmany(
                    timeout_ms=_POLL_MS, max_records=_POLL_RECORDS
                )
                async with self._lock:
                    for partition, records in batches.items():
                        await self._apply(partition, records)
                    await self._write_due(force=False)
                    await self._commit()
            except asyncio.CancelledError:
                raise
            except Exception:
                # The state and Kafka keep everything uncommitted: log, pause, go on.
                logger.exception("inbox consumer step failed; retrying")
                self._rewind(batches)
                await asyncio.sleep(1.0)
        async with self._lock:
            await self._write_due(force=True)
            await self._commit()

    def _rewind(self, batches: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        # The poll position moved past records not applied: read them again. Saved states
        # skip what they already hold; cached ones are dropped and reloaded.
        self._states.clear()
        for partition, records in batches.items():
            if records and partition in self.consumer.assignment():
                self.consumer.seek(partition, records[0].offset)

    async def _apply(self, partition: TopicPartition, records: Sequence[ConsumerRecord]) -> None:
        by_chat: dict[uuid.UUID, list[Event]] = {}
        for record in records:
            try:
                event = parse_chat_event(record.value)
            except MalformedEvent:
                continue  # the aggregator dead-letters it; nothing here to count
            if isinstance(event, InboxEvent):
                by_chat.setdefault(event.chat_id, []).append((record.offset, event))
        await asyncio.gather(
            *(self._apply_chat(partition, chat_id, events) for chat_id, events in by_chat.items())
        )
        if records:
            self._coalescer.consumed(partition, records[-1].offset)

    async def _apply_chat(
        self, partition: TopicPartition, chat_id: uuid.UUID, events: list[Event]
    ) -> None:
        applied = await self._applier.apply(chat_id, self._states.get(chat_id), events)
        INBOX_EVENTS_APPLIED.inc(len(events))
        for key, offset in applied.dirtied:
            self._coalescer.changed(key, partition, offset)
        self._states[chat_id] = applied.state

    async def _write_due(self, force: bool) -> None:
        now = self.clock()
        due = self._coalescer.due(float("inf") if force else now)
        writes = []
        stamp = datetime.now(UTC)
        for key in due:
            chat_id = key[2] if key[0] == "inbox" else key[1]
            state = self._states.get(chat_id)
            write = document_write(key, state, stamp) if state is not None else None
            if write is not None:
                writes.append(write)
        for start in range(0, len(writes), _FIRESTORE_BATCH):
            batch = self.firestore.batch()
            for path, fields in writes[start : start + _FIRESTORE_BATCH]:
                batch.set(self.firestore.document(path), fields)
            await batch.commit()
        self._coalescer.written(due, now)
        self.documents_written += len(writes)
        self._coalescer.forget_written_before(now - 60.0)
        if len(self._states) > _MAX_CACHED_CHATS and not self._coalescer.pending:
            self._states.clear()  # reloaded from Cassandra on their next event

    async def _commit(self) -> None:
        offsets = {
            partition: OffsetAndMetadata(offset, "")
            for partition, offset in self._coalescer.committable().items()
        }
        if offsets:
            await self.consumer.commit(offsets)

    async def assigned_to(self, partitions: Iterable[TopicPartition]) -> None:
        """Fix each partition's start now: for a new group that is the end of the topic as
        of the assignment, not as of some later first fetch. It is committed with the next
        commit, so a restart resumes there even if nothing arrived meanwhile."""
        for partition in partitions:
            start = await self.consumer.position(partition)
            self._coalescer.consumed(partition, start - 1)
        self.assigned.set()

    async def revoked(self, partitions: Iterable[TopicPartition]) -> None:
        """Write what is pending and commit before the partitions go to another member."""
        async with self._lock:
            try:
                await self._write_due(force=True)
                await self._commit()
            except Exception:
                logger.exception("inbox flush on revocation failed; the next owner replays")
            self._coalescer.drop_partitions(partitions)
            self._states.clear()
