"""The Kafka side: consume, aggregate per partition, flush to the sink, commit behind it.

Offsets are committed per partition only up to the oldest message still held (in an open
group or in a completed group not yet written), and only after the sink accepted every
group before it; all partitions' offsets go out in one commit per flush. The lock guards
the aggregation state between the poll loop and the rebalance listener and is never held
across `getmany`, so a rebalance can always get in between two polls.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata

from aggregator import metrics
from aggregator.aggregation import AggregationConfig, Aggregator, CompletedBy, CompletedGroup
from aggregator.events import MalformedEvent, parse_event
from aggregator.sink import FirestoreSink, FlushResult, SinkUnavailable
from chat_common.store_access import KafkaAccessSettings, kafka_client_kwargs

logger = logging.getLogger(__name__)

POLL_MAX_RECORDS = 1000
POLL_TIMEOUT_MS = 200
BACKOFF_INITIAL_SECONDS = 0.25
BACKOFF_MAX_SECONDS = 5.0
# A final flush (stop or revoke) keeps retrying the sink this long, then gives up: what it
# could not write stays uncommitted and is redelivered to whoever owns the partition next.
FINAL_FLUSH_SECONDS = 5.0


async def start_kafka_clients(
    bootstrap_servers: str,
    group_id: str,
    session_timeout_ms: int = 10_000,
    access: KafkaAccessSettings | None = None,
) -> tuple[AIOKafkaConsumer, AIOKafkaProducer]:
    """The consumer (manual commits) and the dead-letter producer, started.

    One place for their settings, so tests and benchmarks run what production runs;
    `access` gives their credentials and TLS (default: plaintext).
    """
    security = kafka_client_kwargs(access or KafkaAccessSettings())
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers, acks="all", enable_idempotence=True, **security
    )
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        # Room for a final flush in the revoke listener before the group gives up on us.
        rebalance_timeout_ms=30_000,
        session_timeout_ms=session_timeout_ms,
        heartbeat_interval_ms=min(3000, session_timeout_ms // 3),
        **security,
    )
    await producer.start()
    try:
        await consumer.start()
    except BaseException:
        await producer.stop()
        raise
    return consumer, producer


@dataclass(slots=True)
class _Unwritten:
    tp: TopicPartition
    group: CompletedGroup


class AggregatingConsumer:
    """Runs the poll loop until `stop()`; then completes every group, writes, commits."""

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        producer: AIOKafkaProducer,
        sink: FirestoreSink,
        config: AggregationConfig,
        topic: str,
        dlq_topic: str,
        max_backlog: int = 50_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.consumer = consumer
        self.producer = producer
        self.sink = sink
        self.config = config
        self.topic = topic
        self.dlq_topic = dlq_topic
        self.max_backlog = max_backlog
        self._clock = clock
        self._lock = asyncio.Lock()
        self._stopping = asyncio.Event()
        self._aggregators: dict[TopicPartition, Aggregator] = {}
        self._unwritten: list[_Unwritten] = []
        self._next_offset: dict[TopicPartition, int] = {}
        self._committed: dict[TopicPartition, int] = {}
        self._backoff = 0.0
        self._retry_at = 0.0
        self._paused = False
        self.documents_written = 0
        self.messages_written = 0

    # -- lifecycle -------------------------------------------------------------------

    def subscribe(self) -> None:
        self.consumer.subscribe([self.topic], listener=_FlushOnRevoke(self))

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
            except MalformedEvent as exc:
                if not await self._dead_letter(tp, record, str(exc)):
                    # Could not park it: fetch it again later rather than skip it.
                    self.consumer.seek(tp, record.offset)
                    return
            else:
                metrics.MESSAGES_IN.inc()
                self._complete(tp, aggregator.add(message, self._now_ms()))
            self._next_offset[tp] = record.offset + 1

    async def _dead_letter(self, tp: TopicPartition, record: ConsumerRecord, why: str) -> bool:
        logger.warning(
            "malformed event at %s[%d]@%d to %s: %s",
            tp.topic,
            tp.partition,
            record.offset,
            self.dlq_topic,
            why,
        )
        headers = [
            ("error", why[:1000].encode()),
            ("source", f"{tp.topic}/{tp.partition}/{record.offset}".encode()),
        ]
        try:
            await self.producer.send_and_wait(
                self.dlq_topic, value=record.value, key=record.key, headers=headers
            )
        except KafkaError:
            logger.exception("dead-letter produce failed; will refetch offset %d", record.offset)
            return False
        metrics.MALFORMED.inc()
        return True

    def _complete(self, tp: TopicPartition, groups: Sequence[CompletedGroup]) -> None:
        for group in groups:
            metrics.GROUPS_OUT.labels(group.completed_by.value).inc()
            self._unwritten.append(_Unwritten(tp, group))

    # -- flush and commit ------------------------------------------------------------

    async def _flush(self) -> None:
        now_ms = self._now_ms()
        for tp, aggregator in self._aggregators.items():
            self._complete(tp, aggregator.expire(now_ms))
        if self._unwritten and time.monotonic() >= self._retry_at:
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
        groups = [u.group for u in self._unwritten]
        try:
            result = await self.sink.write(groups)
        except SinkUnavailable as exc:
            metrics.FIRESTORE_ERRORS.inc()
            logger.warning("Firestore flush of %d groups failed: %s", len(groups), exc)
            return False
        self._unwritten.clear()
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

    def _commit_positions(self, tps: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
        held: dict[TopicPartition, int] = {}
        for unwritten in self._unwritten:
            low = unwritten.group.min_offset
            held[unwritten.tp] = min(held.get(unwritten.tp, low), low)
        positions: dict[TopicPartition, int] = {}
        for tp in tps:
            if tp not in self._next_offset:
                continue
            candidates = [self._next_offset[tp]]
            oldest = self._aggregators[tp].oldest_offset() if tp in self._aggregators else None
            if oldest is not None:
                candidates.append(oldest)
            if tp in held:
                candidates.append(held[tp])
            position = min(candidates)
            if position > self._committed.get(tp, -1):
                positions[tp] = position
        return positions

    async def _commit(self, tps: Sequence[TopicPartition]) -> None:
        positions = self._commit_positions(tps)
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
        self._committed.update(positions)

    async def _final_flush(self, tps: Sequence[TopicPartition], reason: CompletedBy) -> None:
        """Force-complete `tps`, write with bounded retries, commit, forget their state."""
        for tp in tps:
            if tp in self._aggregators:
                self._complete(tp, self._aggregators[tp].complete_all(reason))
        deadline = time.monotonic() + FINAL_FLUSH_SECONDS
        delay = BACKOFF_INITIAL_SECONDS
        while self._unwritten and not await self._write_unwritten():
            if time.monotonic() + delay > deadline:
                logger.error(
                    "giving up on %d groups at %s; they stay uncommitted and are redelivered",
                    len(self._unwritten),
                    reason.value,
                )
                break
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX_SECONDS)
        await self._commit(tps)
        gone = set(tps)
        self._unwritten = [u for u in self._unwritten if u.tp not in gone]
        for tp in gone:
            self._aggregators.pop(tp, None)
            self._next_offset.pop(tp, None)
            self._committed.pop(tp, None)

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
            if self._paused:
                self.consumer.pause(*assigned)

    # -- backpressure ----------------------------------------------------------------

    def _backlog(self) -> int:
        held = sum(a.open_messages for a in self._aggregators.values())
        return held + sum(len(u.group.messages) for u in self._unwritten)

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
        return int(self._clock() * 1000)

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
            if highwater is not None and tp in self._next_offset:
                lag = max(highwater - self._next_offset[tp], 0)
                metrics.CONSUMER_LAG.labels(str(tp.partition)).set(lag)


class _FlushOnRevoke(ConsumerRebalanceListener):
    """Flushes and commits the revoked partitions' groups before the group moves on."""

    def __init__(self, owner: AggregatingConsumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self.owner.on_revoked(revoked)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        await self.owner.on_assigned(assigned)
