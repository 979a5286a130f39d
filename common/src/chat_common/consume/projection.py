"""What a projection is to the consume loop: it owns what a record means, nothing else.

The loop (`loop.ConsumeLoop`) polls, hands records over, asks the projection to write what
is due, and commits behind the writes through the offset ledger. A projection:

- `decode`s one record into what it applies (pure; `Poison` when the record can never be
  handled: unparseable, breaking the contract, refused by a rule), or None when the record
  is nothing to it;
- `apply`s a partition's decoded records in offset order. Every effect not yet durable is
  held in the ledger (`ledger.hold(partition, low offset, payload)`), so nothing past it is
  committed. Applying a record again (a replay after a crash, or a retry after a failure)
  must change nothing: projections are idempotent per offset;
- `flush`es: writes the held payloads that are due (all of them when `force`) and marks
  them `written` in the ledger;
- says the lowest offset still in an open, unheld group (`open_low`), when its next write
  is due (`seconds_to_due`), and how much it holds (`backlog`);
- `complete`s the open groups of partitions about to be revoked (or all, `stopping`), and
  `forget`s their state once they are gone; `assigned` prepares new ones.

A projection's store failures are the types in `transient`: the loop retries them with
backoff, commits nothing past them and never dead-letters a record for them.
"""

from collections.abc import Sequence
from typing import Any, Protocol

from aiokafka import ConsumerRecord, TopicPartition

from chat_common.consume.ledger import OffsetLedger

# A decoded record and its offset.
Item = tuple[int, Any]
Ledger = OffsetLedger[TopicPartition, Any]


class Poison(Exception):
    """The record can never be handled, whatever is retried; the message says why."""


class Projection(Protocol):
    """One consumer's meaning of its records (see the module docstring)."""

    transient: tuple[type[BaseException], ...]

    def decode(self, record: ConsumerRecord) -> Any: ...

    async def apply(
        self, partition: TopicPartition, items: Sequence[Item], ledger: Ledger
    ) -> None: ...

    async def flush(self, ledger: Ledger, force: bool) -> None: ...

    def open_low(self, partition: TopicPartition) -> int | None: ...

    def seconds_to_due(self) -> float | None: ...

    def backlog(self, ledger: Ledger) -> int: ...

    def assigned(self, partitions: Sequence[TopicPartition]) -> None: ...

    def complete(
        self, partitions: Sequence[TopicPartition], ledger: Ledger, stopping: bool
    ) -> None: ...

    def forget(self, partitions: Sequence[TopicPartition]) -> None: ...


class Immediate:
    """Defaults for a projection whose every effect is durable when `apply` returns: it
    holds nothing in the ledger and keeps no open groups, so there is nothing to flush,
    complete or forget. A subclass gives `transient`, `decode` and `apply`."""

    async def flush(self, ledger: Ledger, force: bool) -> None:
        return None

    def open_low(self, partition: TopicPartition) -> int | None:
        return None

    def seconds_to_due(self) -> float | None:
        return None

    def backlog(self, ledger: Ledger) -> int:
        return 0

    def assigned(self, partitions: Sequence[TopicPartition]) -> None:
        return None

    def complete(
        self, partitions: Sequence[TopicPartition], ledger: Ledger, stopping: bool
    ) -> None:
        return None

    def forget(self, partitions: Sequence[TopicPartition]) -> None:
        return None
