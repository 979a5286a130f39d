"""A Kafka consumer, a dead-letter sink and a projection in memory, for the consume loop's
unit tests: the consumer serves a fixed log per partition, honours seek, pause and commit,
and assigns every partition at the first poll, as a group of one would."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata

from chat_common.consume.ledger import Hold
from chat_common.consume.projection import Item, Ledger, Poison

TOPIC = "events"


def partition(number: int = 0) -> TopicPartition:
    return TopicPartition(TOPIC, number)


class FakeConsumer:
    def __init__(self, logs: dict[TopicPartition, list[bytes]]) -> None:
        self.logs = logs
        self.fetch_at = dict.fromkeys(logs, 0)
        self.committed: dict[TopicPartition, int] = {}
        self.paused: set[TopicPartition] = set()
        self.listener: ConsumerRebalanceListener | None = None
        self._assigned = False
        self.starts = 0
        # Polls that raise, as a consumer whose coordination task died does.
        self.failing_polls = 0

    async def start(self) -> None:
        self.starts += 1
        self._assigned = False

    async def stop(self) -> None:
        return None

    def subscribe(self, topics: list[str], listener: ConsumerRebalanceListener) -> None:
        self.listener = listener

    async def getmany(
        self, timeout_ms: int, max_records: int
    ) -> dict[TopicPartition, list[ConsumerRecord]]:
        if self.failing_polls:
            self.failing_polls -= 1
            raise KafkaError("Unexpected error during coordination")
        if not self._assigned and self.listener is not None:
            self._assigned = True
            self.fetch_at = {tp: self.committed.get(tp, 0) for tp in self.logs}
            await self.listener.on_partitions_assigned(list(self.logs))
        out: dict[TopicPartition, list[ConsumerRecord]] = {}
        for tp, log in self.logs.items():
            if tp in self.paused:
                continue
            start = self.fetch_at[tp]
            values = log[start : start + max_records]
            if values:
                out[tp] = [record(tp, start + i, value) for i, value in enumerate(values)]
                self.fetch_at[tp] = start + len(values)
        if not out:
            await asyncio.sleep(timeout_ms / 1000)
        return out

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.fetch_at[tp] = offset

    async def position(self, tp: TopicPartition) -> int:
        return self.fetch_at[tp]

    def assignment(self) -> set[TopicPartition]:
        return set(self.logs) if self._assigned else set()

    def highwater(self, tp: TopicPartition) -> int:
        return len(self.logs[tp])

    def pause(self, *tps: TopicPartition) -> None:
        self.paused.update(tps)

    def resume(self, *tps: TopicPartition) -> None:
        self.paused.difference_update(tps)

    async def commit(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
        self.committed.update({tp: meta.offset for tp, meta in offsets.items()})

    async def revoke_all(self) -> None:
        """What a rebalance that takes every partition away does."""
        assert self.listener is not None
        await self.listener.on_partitions_revoked(list(self.logs))


def record(tp: TopicPartition, offset: int, value: bytes) -> ConsumerRecord:
    return ConsumerRecord(
        topic=tp.topic,
        partition=tp.partition,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=b"k",
        value=value,
        checksum=None,
        serialized_key_size=1,
        serialized_value_size=len(value),
        headers=(),
    )


@dataclass
class FakeDeadLetterSink:
    """Kafka's dead-letter topic: `refusing` makes every produce fail."""

    refusing: bool = False
    sent: list[tuple[str, bytes | None, dict[str, bytes]]] = field(default_factory=list)

    async def send(
        self, topic: str, value: bytes | None, key: bytes | None, headers: list[tuple[str, bytes]]
    ) -> None:
        if self.refusing:
            raise ConnectionError("the dead-letter topic refuses the record")
        self.sent.append((topic, value, dict(headers)))


class StoreDown(Exception):
    """The projection's store is unavailable."""


@dataclass(eq=False)
class FakeProjection:
    """Each record is an ASCII number, or `poison` (cannot be decoded), or `bug` (fails
    whenever applied). Applying holds the number until a flush writes it; `store_down` and
    `sink_down` make apply and flush fail as a store that is down does."""

    store_down: bool = False
    sink_down: bool = False
    transient: tuple[type[BaseException], ...] = (StoreDown,)
    applied: list[int] = field(default_factory=list)
    written: list[int] = field(default_factory=list)
    apply_calls: int = 0
    holds: dict[int, Hold[TopicPartition]] = field(default_factory=dict)

    def decode(self, rec: ConsumerRecord) -> Any:
        if rec.value == b"poison":
            raise Poison("not a number")
        if rec.value == b"skip":
            return None
        return rec.value.decode()

    async def apply(self, tp: TopicPartition, items: Sequence[Item], ledger: Ledger) -> None:
        self.apply_calls += 1
        if self.store_down:
            raise StoreDown()
        for offset, value in items:
            if value == "bug":
                raise ValueError("this record always breaks the projection")
            if offset in self.holds or offset in self.written:
                continue  # applied before: a replay changes nothing
            self.applied.append(offset)
            hold = ledger.hold(tp, offset, offset)
            if hold is not None:
                self.holds[offset] = hold

    async def flush(self, ledger: Ledger, force: bool) -> None:
        if self.sink_down:
            raise StoreDown()
        done = sorted(self.holds)
        ledger.written(self.holds.pop(offset) for offset in done)
        self.written += done

    def open_low(self, tp: TopicPartition) -> int | None:
        return None

    def seconds_to_due(self) -> float | None:
        return None

    def backlog(self, ledger: Ledger) -> int:
        return len(self.holds)

    def assigned(self, partitions: Sequence[TopicPartition]) -> None:
        return None

    def complete(
        self, partitions: Sequence[TopicPartition], ledger: Ledger, stopping: bool
    ) -> None:
        return None

    def forget(self, partitions: Sequence[TopicPartition]) -> None:
        for offset in [o for o, h in self.holds.items() if h.partition in partitions]:
            del self.holds[offset]
