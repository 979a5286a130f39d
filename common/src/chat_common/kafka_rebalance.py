"""The rebalance listener of a consumer loop that handles revokes and assignments itself.

aiokafka wants a `ConsumerRebalanceListener` object; the loops that own the partition
state (the aggregator, the inbox consumer) only need their two coroutines called.
"""

from collections.abc import Awaitable, Callable

from aiokafka import TopicPartition
from aiokafka.abc import ConsumerRebalanceListener

PartitionsHandler = Callable[[list[TopicPartition]], Awaitable[None]]


class ForwardingListener(ConsumerRebalanceListener):
    """Hands each revoke and assignment to the owner's coroutine (awaited, so a flush in
    `revoked` finishes before the group moves the partitions on)."""

    def __init__(self, revoked: PartitionsHandler, assigned: PartitionsHandler) -> None:
        self._revoked = revoked
        self._assigned = assigned

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self._revoked(revoked)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        await self._assigned(assigned)
