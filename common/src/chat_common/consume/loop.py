"""The one consume loop of every Kafka consumer group: poll, apply, write, commit.

`ConsumeLoop.run` starts its consumer (again and again while Kafka is down), then polls
until `stop`. Each poll's records go to the projection in offset order; what the
projection holds unwritten is written by its `flush`, and offsets are committed only behind
the writes, through the offset ledger (`ledger`). The lock guards the state between the
poll loop and the rebalance listener and is never held across `getmany` or a backoff.

Failures, by what they mean:
- a store that is down (the projection's `transient` errors, on apply; any error on flush):
  retried with backoff, nothing committed past it, the partition read again from the
  first record not handled. Never a dead letter.
- a record that fails deterministically (`Poison` from decode, or any other error when it
  is applied alone) `max_failures` times in a row: parked on its topic's dead-letter topic
  (`dead_letters`) and passed, so its partition flows on.
- a consumer that fails (`getmany` raises): written and committed as on a stop, then
  replaced by a new one.
On revocation and on stop the open groups are completed, written (bounded retries) and
committed; what could not be written stays uncommitted for the next owner.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata

from chat_common.backoff import Backoff, wait_or_stop
from chat_common.consume import metrics
from chat_common.consume.clients import group_consumer
from chat_common.consume.dead_letters import DeadLetters, DeadLetterSink
from chat_common.consume.ledger import OffsetLedger
from chat_common.consume.projection import Ledger, Poison, Projection
from chat_common.kafka_rebalance import ForwardingListener
from chat_common.store_access import KafkaAccessSettings

logger = logging.getLogger(__name__)

POLL_MS = 200
# Backoff after a store failure, and between starts while Kafka is down.
FIRST_RETRY_SECONDS = 0.25
MAX_RETRY_SECONDS = 5.0
# A final flush (revoke or stop) keeps retrying this long, then gives up: what it could not
# write stays uncommitted and is read again by whoever owns the partition next.
FINAL_FLUSH_SECONDS = 5.0


@dataclass(frozen=True)
class _Decoded:
    record: ConsumerRecord
    value: Any  # None: the record is nothing to the projection


class ConsumeLoop:
    """Runs one consumer group's projection until `stop` (see the module docstring)."""

    def __init__(
        self,
        consumer: Callable[[], AIOKafkaConsumer],
        group: str,
        topics: Sequence[str],
        projection: Projection,
        dead_letters: DeadLetters,
        *,
        max_failures: int = 3,
        max_records: int = 500,
        max_backlog: int = 50_000,
    ) -> None:
        """`consumer` makes a new (unstarted) consumer of group `group` for each start."""
        if max_failures < 1:
            raise ValueError("max_failures must be at least 1")
        self._make_consumer = consumer
        self.group = group
        self.topics = list(topics)
        self.projection = projection
        self.dead_letters = dead_letters
        self.max_failures = max_failures
        self.max_records = max_records
        self.max_backlog = max_backlog
        self.ledger: Ledger = OffsetLedger()
        # Set once partitions are assigned and their start positions fixed (tests wait).
        self.assigned = asyncio.Event()
        self._consumer: AIOKafkaConsumer | None = None
        self._lock = asyncio.Lock()
        self._stopping = asyncio.Event()
        self._failures: dict[tuple[TopicPartition, int], int] = {}
        self._apply_backoff = Backoff(FIRST_RETRY_SECONDS, MAX_RETRY_SECONDS)
        self._flush_backoff = Backoff(FIRST_RETRY_SECONDS, MAX_RETRY_SECONDS)
        self._flush_retry_at = 0.0
        self._flush_failing = False
        self._paused = False
        metrics.initialise(group)

    def stop(self) -> None:
        self._stopping.set()

    @property
    def paused(self) -> bool:
        """Fetching is paused: writes failing, or the projection's backlog full."""
        return self._paused

    @property
    def writes_failing(self) -> bool:
        """The projection's last flush failed (it is retried with backoff)."""
        return self._flush_failing

    # -- life ------------------------------------------------------------------------

    async def run(self) -> None:
        """Start the consumer (retried while Kafka is down) and poll until `stop`."""
        backoff = Backoff(FIRST_RETRY_SECONDS, MAX_RETRY_SECONDS)
        while not self._stopping.is_set():
            consumer = self._make_consumer()
            try:
                await consumer.start()
            except Exception as exc:  # aiokafka raises several types for "cannot connect"
                retry = backoff.failed()
                logger.warning("%s cannot start (%r); retrying in %.1fs", self.group, exc, retry)
                await consumer.stop()
                await wait_or_stop(self._stopping, retry)
                continue
            backoff.succeeded()
            self._consumer = consumer
            consumer.subscribe(
                self.topics, listener=ForwardingListener(self._revoked, self._assigned)
            )
            try:
                await self._poll_until_stopped(consumer)
            finally:
                async with self._lock:
                    await self._finish(self.ledger.assigned, stopping=True)
                self._consumer = None
                await consumer.stop()
            if not self._stopping.is_set():
                await wait_or_stop(self._stopping, backoff.failed())

    async def _poll_until_stopped(self, consumer: AIOKafkaConsumer) -> None:
        while not self._stopping.is_set():
            try:
                batches = await consumer.getmany(
                    timeout_ms=self._poll_timeout_ms(), max_records=self.max_records
                )
            except KafkaError as exc:
                # aiokafka rides out a broker restart inside getmany; what it raises is a
                # consumer that cannot go on (a dead coordination task, as aiokafka#1038
                # leaves under uvloop, never recovers): start a new one.
                logger.error("%s consumer failed (%r); starting a new one", self.group, exc)
                return
            retry_after = 0.0
            async with self._lock:
                for partition, records in batches.items():
                    retry_after = max(retry_after, await self._handle(partition, records))
                await self._flush()
                self._apply_backpressure()
                await self._commit(self.ledger.assigned)
                self._observe_lag(consumer)
            if retry_after:
                await wait_or_stop(self._stopping, retry_after)

    # -- records ---------------------------------------------------------------------

    async def _handle(self, partition: TopicPartition, records: Sequence[ConsumerRecord]) -> float:
        """Apply a partition's records; the backoff to wait when a step has to be retried."""
        start = self.ledger.next_offset(partition)
        if partition not in self.ledger.assigned or start is None:
            return 0.0  # revoked while these were in flight: the new owner gets them again
        segment: list[_Decoded] = []
        for record in records:
            if record.offset < start:
                continue  # handled before a rewind: read again, not applied again
            try:
                value = self._decode(record)
            except Poison as exc:
                # What comes before the poison is applied (and handled) before it is passed.
                retry = await self._apply(partition, segment)
                if retry:
                    return retry
                segment = []
                if not await self._park(record, str(exc), self.max_failures):
                    return self._rewind(partition, record.offset, blocked=True)
                continue
            segment.append(_Decoded(record, value))
        return await self._apply(partition, segment)

    def _decode(self, record: ConsumerRecord) -> Any:
        # Decoding is pure: a record it refuses is refused each of `max_failures` tries.
        for _ in range(self.max_failures - 1):
            with contextlib.suppress(Poison):
                return self.projection.decode(record)
        return self.projection.decode(record)

    async def _apply(self, partition: TopicPartition, segment: Sequence[_Decoded]) -> float:
        if not segment:
            return 0.0
        items = [(d.record.offset, d.value) for d in segment if d.value is not None]
        try:
            if items:
                await self.projection.apply(partition, items, self.ledger)
        except self.projection.transient as exc:
            return self._store_failed(partition, segment[0].record.offset, exc)
        except Exception:
            # Not a store: find the record that fails by applying them one at a time.
            return await self._apply_one_by_one(partition, segment)
        self._handled(partition, segment)
        return 0.0

    async def _apply_one_by_one(
        self, partition: TopicPartition, segment: Sequence[_Decoded]
    ) -> float:
        for decoded in segment:
            record = decoded.record
            try:
                if decoded.value is not None:
                    item = (record.offset, decoded.value)
                    await self.projection.apply(partition, [item], self.ledger)
            except self.projection.transient as exc:
                return self._store_failed(partition, record.offset, exc)
            except Exception as exc:
                key = (partition, record.offset)
                attempts = self._failures.get(key, 0) + 1
                if attempts < self.max_failures:
                    self._failures[key] = attempts
                    logger.warning(
                        "%s failed on %s/%d/%d (attempt %d of %d): %r",
                        self.group,
                        record.topic,
                        record.partition,
                        record.offset,
                        attempts,
                        self.max_failures,
                        exc,
                    )
                    return self._rewind(partition, record.offset)
                self._failures.pop(key, None)
                if not await self._park(record, repr(exc), attempts):
                    return self._rewind(partition, record.offset, blocked=True)
            else:
                self._failures.pop((partition, record.offset), None)
            self._handled(partition, [decoded])
        return 0.0

    def _handled(self, partition: TopicPartition, segment: Sequence[_Decoded]) -> None:
        # One by one: a record the ledger holds as blocked is passed only by its own offset.
        for decoded in segment:
            self.ledger.handled(partition, decoded.record.offset)
        metrics.RECORDS_HANDLED.labels(self.group).inc(len(segment))
        self._apply_backoff.succeeded()

    async def _park(self, record: ConsumerRecord, why: str, attempts: int) -> bool:
        parked = await self.dead_letters.park(record, why, attempts)
        if parked:
            partition = TopicPartition(record.topic, record.partition)
            self.ledger.handled(partition, record.offset)
            metrics.RECORDS_HANDLED.labels(self.group).inc()
        return parked

    def _store_failed(self, partition: TopicPartition, offset: int, exc: BaseException) -> float:
        metrics.RETRIES.labels(self.group, "apply").inc()
        delay = self._rewind(partition, offset)
        logger.warning("%s: store unavailable (%r); retrying in %.1fs", self.group, exc, delay)
        return delay

    def _rewind(self, partition: TopicPartition, offset: int, blocked: bool = False) -> float:
        """Fetch `partition` again from `offset`; the backoff to wait first."""
        if blocked:
            self.ledger.blocked(partition, offset)
        consumer = self._consumer
        if consumer is not None and partition in consumer.assignment():
            consumer.seek(partition, offset)
        return self._apply_backoff.failed()

    # -- writes and commits ----------------------------------------------------------

    async def _flush(self) -> None:
        if time.monotonic() < self._flush_retry_at:
            return
        try:
            await self.projection.flush(self.ledger, False)
        except Exception as exc:
            # Whatever the write failed on, no record is to blame: retry, commit nothing.
            metrics.RETRIES.labels(self.group, "flush").inc()
            delay = self._flush_backoff.failed()
            self._flush_retry_at = time.monotonic() + delay
            self._flush_failing = True
            logger.warning("%s flush failed (%r); retrying in %.1fs", self.group, exc, delay)
        else:
            self._flush_backoff.succeeded()
            self._flush_failing = False

    def _apply_backpressure(self) -> None:
        consumer = self._consumer
        backlog = self.projection.backlog(self.ledger)
        metrics.BACKLOG.labels(self.group).set(backlog)
        if consumer is None:
            return
        if self._flush_failing or backlog >= self.max_backlog:
            if not self._paused:
                logger.warning("%s pausing: writes failing or backlog full", self.group)
                self._paused = True
                metrics.PAUSED.labels(self.group).set(1)
            consumer.pause(*self.ledger.assigned)
        elif self._paused:
            logger.info("%s resuming", self.group)
            self._paused = False
            metrics.PAUSED.labels(self.group).set(0)
            consumer.resume(*self.ledger.assigned)

    async def _commit(self, partitions: Sequence[TopicPartition]) -> None:
        consumer = self._consumer
        if consumer is None:
            return
        open_low = {partition: self.projection.open_low(partition) for partition in partitions}
        positions = self.ledger.positions(open_low, only=partitions)
        if not positions:
            return
        try:
            await consumer.commit({tp: OffsetAndMetadata(p, "") for tp, p in positions.items()})
        except KafkaError as exc:
            # A rebalance in progress, most likely: the listener commits what it flushed.
            logger.warning("%s commit failed: %r", self.group, exc)
            return
        metrics.COMMITS.labels(self.group).inc()
        self.ledger.committed(positions)

    async def _finish(self, partitions: Sequence[TopicPartition], stopping: bool) -> None:
        """Complete `partitions`' open groups, write everything (bounded), commit, forget."""
        partitions = list(partitions)
        self.projection.complete(partitions, self.ledger, stopping)
        deadline = time.monotonic() + FINAL_FLUSH_SECONDS
        backoff = Backoff(FIRST_RETRY_SECONDS, MAX_RETRY_SECONDS)
        while True:
            try:
                await self.projection.flush(self.ledger, True)
                break
            except Exception as exc:
                delay = backoff.failed()
                if time.monotonic() + delay > deadline:
                    logger.error(
                        "%s giving up its final write (%r); the next owner reads it again",
                        self.group,
                        exc,
                    )
                    break
                await asyncio.sleep(delay)
        await self._commit(partitions)
        for partition in partitions:
            self.ledger.revoke(partition)
            with contextlib.suppress(KeyError):
                metrics.CONSUMER_LAG.remove(self.group, partition.topic, str(partition.partition))
        self._failures = {k: v for k, v in self._failures.items() if k[0] not in partitions}
        self.projection.forget(partitions)

    # -- rebalance -------------------------------------------------------------------

    async def _assigned(self, partitions: list[TopicPartition]) -> None:
        """Fix each partition's start now and hold it in the ledger: for a new group that
        is the end or the beginning of the topic as of the assignment, committed with the
        next commit, so a restart resumes there even if nothing arrived meanwhile."""
        async with self._lock:
            consumer = self._consumer
            logger.info("partitions assigned: %s (group %s)", _names(partitions), self.group)
            for partition in partitions:
                self.ledger.assign(partition)
                if consumer is not None:
                    start = await consumer.position(partition)
                    self.ledger.handled(partition, start - 1)
            self.projection.assigned(partitions)
            if self._paused and consumer is not None:
                consumer.pause(*partitions)
            self.assigned.set()

    async def _revoked(self, partitions: list[TopicPartition]) -> None:
        async with self._lock:
            if partitions:
                logger.info("partitions revoked: %s (group %s)", _names(partitions), self.group)
            await self._finish(partitions, stopping=False)

    # -- timing and observation ------------------------------------------------------

    def _poll_timeout_ms(self) -> int:
        timeout = POLL_MS / 1000
        due = self.projection.seconds_to_due()
        if due is not None:
            timeout = min(timeout, due)
        if self._flush_failing:
            timeout = min(timeout, max(self._flush_retry_at - time.monotonic(), 0.0))
        return max(int(timeout * 1000), 10)

    def _observe_lag(self, consumer: AIOKafkaConsumer) -> None:
        for partition in self.ledger.assigned:
            highwater = consumer.highwater(partition)
            position = self.ledger.next_offset(partition)
            if highwater is not None and position is not None:
                metrics.CONSUMER_LAG.labels(
                    self.group, partition.topic, str(partition.partition)
                ).set(max(highwater - position, 0))


def _names(partitions: Sequence[TopicPartition]) -> str:
    """`[0, 1] of chat-messages`, per topic."""
    by_topic: dict[str, list[int]] = {}
    for partition in partitions:
        by_topic.setdefault(partition.topic, []).append(partition.partition)
    return "; ".join(f"{sorted(numbers)} of {topic}" for topic, numbers in sorted(by_topic.items()))


def group_loop(
    access: KafkaAccessSettings,
    bootstrap_servers: str,
    group: str,
    topic: str,
    dead_letter_topic: str,
    projection: Projection,
    dead_letters: DeadLetterSink,
    *,
    offset_reset: Literal["earliest", "latest"],
    max_failures: int,
    session_timeout_ms: int = 10_000,
    **options: int,
) -> ConsumeLoop:
    """The loop of consumer group `group` over `topic`, parking what it cannot handle on
    `dead_letter_topic`; `options`: `max_records`, `max_backlog`."""
    consumer = partial(
        group_consumer,
        bootstrap_servers,
        group,
        access,
        offset_reset=offset_reset,
        session_timeout_ms=session_timeout_ms,
    )
    letters = DeadLetters(dead_letters, group, {topic: dead_letter_topic})
    return ConsumeLoop(
        consumer, group, [topic], projection, letters, max_failures=max_failures, **options
    )
