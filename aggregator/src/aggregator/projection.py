"""The aggregator as a projection of `chat-messages` (run by `chat_common.consume`'s loop).

A record decodes into the aggregation core's `Message` (a read mark or an opened chat is
nothing to it; a malformed one, or one dated too far ahead, is poison). Applying adds it to
its partition's `Aggregator`; every completed group is held in the ledger with the lowest
offset it covers until its batch document is written, and each partition's open groups
keep their lowest offset uncommitted (`open_low`). A flush completes the groups whose
window passed, writes every held group in batched commits, and marks them written.
"""

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aiokafka import ConsumerRecord, TopicPartition

from aggregator import metrics
from aggregator.aggregation import (
    AggregationConfig,
    Aggregator,
    CompletedBy,
    CompletedGroup,
    Message,
)
from aggregator.events import MalformedEvent, parse_event
from aggregator.sink import FirestoreSink, FlushResult, SinkUnavailable
from chat_common.consume.projection import Item, Ledger, Poison

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class AggregatorProjection:
    """Aggregates each sender's messages per chat and writes each group once."""

    sink: FirestoreSink
    config: AggregationConfig
    clock: Callable[[], float] = time.time
    transient: tuple[type[BaseException], ...] = (SinkUnavailable,)
    documents_written: int = field(init=False, default=0)
    messages_written: int = field(init=False, default=0)
    _aggregators: dict[TopicPartition, Aggregator] = field(init=False, default_factory=dict)

    def decode(self, record: ConsumerRecord) -> Message | None:
        try:
            message = parse_event(record.value, record.offset)
        except MalformedEvent as exc:
            raise Poison(str(exc)) from exc
        # Its group could not complete until then and would hold the partition's commits.
        ahead = message.time_ms - self._now_ms() if message is not None else 0
        if ahead > self.config.max_future_ms:
            raise Poison(f"message time is {ahead} ms ahead of the clock")
        return message

    async def apply(self, partition: TopicPartition, items: Sequence[Item], ledger: Ledger) -> None:
        aggregator = self._aggregators.get(partition)
        if aggregator is None:
            return  # revoked meanwhile: the new owner reads these again
        for _, message in items:
            metrics.MESSAGES_IN.inc()
            self._hold(partition, aggregator.add(message, self._now_ms()), ledger)

    async def flush(self, ledger: Ledger, force: bool) -> None:
        now_ms = self._now_ms()
        for partition, aggregator in self._aggregators.items():
            self._hold(partition, aggregator.expire(now_ms), ledger)
        unwritten = ledger.unwritten()
        if not unwritten:
            return
        try:
            result = await self.sink.write([group for _, group in unwritten])
        except SinkUnavailable:
            metrics.FIRESTORE_ERRORS.inc()
            raise
        ledger.written(hold for hold, _ in unwritten)
        self._record(result)

    def open_low(self, partition: TopicPartition) -> int | None:
        aggregator = self._aggregators.get(partition)
        return None if aggregator is None else aggregator.oldest_offset()

    def seconds_to_due(self) -> float | None:
        deadlines = [
            d for a in self._aggregators.values() if (d := a.next_deadline_ms()) is not None
        ]
        return max(min(deadlines) - self._now_ms(), 0) / 1000 if deadlines else None

    def backlog(self, ledger: Ledger) -> int:
        held = sum(a.open_messages for a in self._aggregators.values())
        return held + ledger.held_count(lambda group: len(group.messages))

    def assigned(self, partitions: Sequence[TopicPartition]) -> None:
        for partition in partitions:
            self._aggregators.setdefault(partition, Aggregator(self.config))

    def complete(
        self, partitions: Sequence[TopicPartition], ledger: Ledger, stopping: bool
    ) -> None:
        """Force completion (a revoke or a stop): every open group of `partitions` goes out."""
        reason = CompletedBy.STOP if stopping else CompletedBy.REVOKE
        for partition in partitions:
            aggregator = self._aggregators.get(partition)
            if aggregator is not None:
                self._hold(partition, aggregator.complete_all(reason), ledger)

    def forget(self, partitions: Sequence[TopicPartition]) -> None:
        for partition in partitions:
            self._aggregators.pop(partition, None)

    @property
    def assigned_partitions(self) -> list[TopicPartition]:
        return list(self._aggregators)

    def _hold(
        self, partition: TopicPartition, groups: Sequence[CompletedGroup], ledger: Ledger
    ) -> None:
        for group in groups:
            metrics.GROUPS_OUT.labels(group.completed_by.value).inc()
            ledger.hold(partition, group.min_offset, group)

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

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)
