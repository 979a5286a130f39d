"""The Kafka side: consume, aggregate per partition, flush to the sink, commit behind it.

Which offsets may be committed is `offset_ledger`'s decision (never past a message not yet
in Firestore); all partitions' offsets go out in one commit per flush. An event that cannot
be aggregated goes to the dead-letter topic, so its partition keeps flowing. The lock
guards the state between the poll loop and the rebalance listener and is never held across
`getmany`, so a rebalance can always get in between two polls.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata

from aggregator import metrics
from aggregator.aggregation import (
    AggregationConfig,
    Aggregator,
    CompletedBy,
    CompletedGroup,
    FutureDated,
)
from aggregator.dead_letter import DeadLetterTopic
from aggregator.events import MalformedEvent, parse_event

# Where the bench (and tests) have always found it.
from aggregator.kafka_clients import start_kafka_clients as start_kafka_clients
from aggregator.offset_ledger import OffsetLedger
from aggregator.sink import FirestoreSink, FlushResult, SinkUnavailable
from chat_common.backoff import Backoff
from chat_common.kafka_rebalance import ForwardingListener

logger = logging.getLogger(__name__)

POLL_MAX_RECORDS = 1000
POLL_TIMEOUT_MS = 200
BACKOFF_INITIAL_SECONDS = 0.25
BACKOFF_MAX_SECONDS = 5.0
# A final flush (stop or revoke) keeps retrying the sink this long, then gives up: what it
# could not write stays uncommitted and is redelivered to whoever owns the partition next.
FINAL_FLUSH_SECONDS = 5.0


@dataclass(eq=False)
class AggregatingConsumer:
    """Runs the poll loop until `stop()`; then completes every group, writes, commits."""

    consumer: AIOKafkaConsumer
    producer: AIOKafkaProducer
    sink: FirestoreSink
    config: AggregationConfig
    topic: str
    dlq_topic: str
    max_backlog: int = 50_000
    clock: Callable[[], float] = time.time
    dead_letters: DeadLetterTopic = field(init=False)
    documents_written: int = field(init=False, default=0)
    messages_written: int = field(init=False, default=0)
    _lock: asyncio.Lock = field(init=False, default_factory=asyncio.Lock)
    _stopping: asyncio.Event = field(init=False, default_factory=asyncio.Event)
    _aggregators: dict[TopicPartition, Aggregator] = field(init=False, default_factory=dict)
    _ledger: OffsetLedger[TopicPartition, CompletedGroup] = field(
        init=False, default_factory=OffsetLedger
    )
    _backoff: float = field(init=False, default=0.0)
    _retry_at: float = field(init=False, default=0.0)
    _paused: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.dead_letters = DeadLetterTopic(self.producer, self.dlq_topic)

    # -- lifecycle -------------------------------------------------------------------

    def subscribe(self) -> None:
        listener = ForwardingListener(self.on_revoked, self.on_assigned)
        self.consumer.subscribe([self.topic], listener=listener)

    def stop(self) -> None:
        self._stopping.set()

    @property
    def sink_healthy(self) -> bool:
        return self._backoff == 0.0

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def assigned(self) -> list[TopicPartition]:
        return list(self._aggregators)

    async def run(self) -> None:
        """Poll, aggregate, flush, commit until stopped; then force-complete and flush."""
        try:
            while not self._stopping.is_set():
                try:
                    batch = await self.consumer.getmany(
                        timeout_ms=self._poll_timeout_ms(), max_records=POLL_MAX_RECORDS
                    )
                except KafkaError as exc:
                    # Kafka restarting, most likely: keep the groups, try again shortly.
                    logger.warning("fetch failed, retrying: %r", exc)
                    await asyncio.sleep(BACKOFF_INITIAL_SECONDS)
                    batch = {}
                async with self._lock:
                    for tp, records in batch.items():
                        await self._ingest(tp, records)
                    await self._flush()
                    self._observe_lag()
        finally:
            async with self._lock:
                await self._final_flush(list(self._aggregators), CompletedBy.STOP)

    # -- ingest ----------------------------------------------------------------------

    async def _ingest(self, tp: TopicPartition, records: Sequence[ConsumerRecord]) -> None:
        aggregator = self._aggregators.get(tp)
        if aggregator is None:
            return  # revoked while these were in flight: the new owner gets them again
        for record in records:
            try:
                message = parse_event(record.value, record.offset)
                if message is None:  # a read mark: the inbox consumer's, not a batch's
                    self._ledger.handled(tp, record.offset)
                    continue
                completed = aggregator.add(message, self._now_ms())
            except (MalformedEvent, FutureDated) as exc:
                if not await self.dead_letters.park(tp, record, str(exc)):
                    # Could not park it: fetch it again later rather than skip it.
                    self.consumer.seek(tp, record.offset)
                    self._ledger.blocked(tp, record.offset)
                    return
            else:
                metrics.MESSAGES_IN.inc()
                self._complete(tp, completed)
            self._ledger.handled(tp, record.offset)

    def _complete(self, tp: TopicPartition, groups: Sequence[CompletedGroup]) -> None:
        for group in groups:
            metrics.GROUPS_OUT.labels(group.completed_by.value).inc()
            self._ledger.hold(tp, group.min_offset, group)

    # -- flush and commit ------------------------------------------------------------

    async def _flush(self) -> None:
        now_ms = self._now_ms()
        for tp, aggregator in self._aggregators.items():
            self._complete(tp, aggregator.expire(now_ms))
        if self._ledger.unwritten() and time.monotonic() >= self._retry_at:
            if await self._write_unwritten():
                self._backoff = 0.0
                self._resume()
            else:
                self._backoff = min(
                    max(self._backoff * 2, BACKOFF_INITIAL_SECONDS), BACKOFF_MAX_SECONDS
                )
                self._retry_at = time.monotonic() + self._backoff
        backlog = self._backlog()
        metrics.BACKLOG.set(backlog)
        if self._backoff or backlog >= self.max_backlog:
            self._pause()
        await self._commit(list(self._aggregators))

    async def _write_unwritten(self) -> bool:
        unwritten = self._ledger.unwritten()
        try:
            result = await self.sink.write([group for _, group in unwritten])
        except SinkUnavailable as exc:
            metrics.FIRESTORE_ERRORS.inc()
            logger.warning("Firestore flush of %d groups failed: %s", len(unwritten), exc)
            return False
        self._ledger.written(hold for hold, _ in unwritten)
        self._record(result)
        return True

    def _record(self, result: FlushResult) -> None:
        metrics.FIRESTORE_WRITES.inc(result.documents)
        metrics.MESSAGES_WRITTEN.inc(result.messages)
        self.documents_written += result.documents
        self.messages_written += result.messages
        if self.messages_written:
            metrics.WRITES_PER_MESSAGE.set(self.documents_written / self.messages_written)
        now_ms = self._now_ms()
        for message in result.written:
            metrics.END_TO_END_DELAY.observe(max(0, now_ms - message.time_ms) / 1000)

    async def _commit(self, tps: Sequence[TopicPartition]) -> None:
        open_low = {tp: a.oldest_offset() for tp, a in self._aggregators.items()}
        positions = self._ledger.positions(open_low, only=tps)
        if not positions:
            return
        try:
            await self.consumer.commit(
                {tp: OffsetAndMetadata(p, "") for tp, p in positions.items()}
            )
        except KafkaError as exc:
            # A rebalance in progress, most likely: the listener commits what it flushed.
            logger.warning("offset commit failed: %r", exc)
            return
        metrics.COMMITS.inc()
        self._ledger.committed(positions)

    async def _final_flush(self, tps: Sequence[TopicPartition], reason: CompletedBy) -> None:
        """Force-complete `tps`, write with bounded retries, commit, forget their state."""
        for tp in tps:
            if tp in self._aggregators:
                self._complete(tp, self._aggregators[tp].complete_all(reason))
        deadline = time.monotonic() + FINAL_FLUSH_SECONDS
        backoff = Backoff(BACKOFF_INITIAL_SECONDS, BACKOFF_MAX_SECONDS)
        while self._ledger.unwritten() and not await self._write_unwritten():
            delay = backoff.failed()
            if time.monotonic() + delay > deadline:
                logger.error(
                    "giving up on %d groups at %s; they stay uncommitted and are redelivered",
                    len(self._ledger.unwritten()),
                    reason.value,
                )
                break
            await asyncio.sleep(delay)
        await self._commit(tps)
        for tp in tps:
            self._ledger.revoke(tp)
            self._aggregators.pop(tp, None)

    # -- rebalance -------------------------------------------------------------------

    async def on_revoked(self, revoked: Sequence[TopicPartition]) -> None:
        async with self._lock:
            logger.info("partitions revoked: %s", sorted(tp.partition for tp in revoked))
            await self._final_flush(list(revoked), CompletedBy.REVOKE)

    async def on_assigned(self, assigned: Sequence[TopicPartition]) -> None:
        async with self._lock:
            logger.info("partitions assigned: %s", sorted(tp.partition for tp in assigned))
            for tp in assigned:
                self._aggregators.setdefault(tp, Aggregator(self.config))
                self._ledger.assign(tp)
            if self._paused:
                self.consumer.pause(*assigned)

    # -- backpressure ----------------------------------------------------------------

    def _backlog(self) -> int:
        held = sum(a.open_messages for a in self._aggregators.values())
        return held + self._ledger.held_count(lambda group: len(group.messages))

    def _pause(self) -> None:
        if not self._paused:
            logger.warning("pausing consumption: Firestore failing or backlog full")
            self._paused = True
            metrics.PAUSED.set(1)
        self.consumer.pause(*self._aggregators)

    def _resume(self) -> None:
        if self._paused and self._backlog() < self.max_backlog:
            logger.info("resuming consumption")
            self._paused = False
            metrics.PAUSED.set(0)
            self.consumer.resume(*self._aggregators)

    # -- timing ----------------------------------------------------------------------

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def _poll_timeout_ms(self) -> int:
        timeout = POLL_TIMEOUT_MS
        deadlines = [
            d for a in self._aggregators.values() if (d := a.next_deadline_ms()) is not None
        ]
        if deadlines:
            timeout = min(timeout, max(min(deadlines) - self._now_ms(), 0))
        return max(timeout, 10)

    def _observe_lag(self) -> None:
        for tp in self._aggregators:
            highwater = self.consumer.highwater(tp)
            position = self._ledger.next_offset(tp)
            if highwater is not None and position is not None:
                metrics.CONSUMER_LAG.labels(str(tp.partition)).set(max(highwater - position, 0))
