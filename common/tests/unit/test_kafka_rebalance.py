"""ForwardingListener awaits the owner's coroutine for each revoke and assignment."""

from aiokafka import TopicPartition

from chat_common.kafka_rebalance import ForwardingListener


async def test_revokes_and_assignments_reach_their_own_handler() -> None:
    calls: list[tuple[str, list[TopicPartition]]] = []

    async def revoked(partitions: list[TopicPartition]) -> None:
        calls.append(("revoked", partitions))

    async def assigned(partitions: list[TopicPartition]) -> None:
        calls.append(("assigned", partitions))

    listener = ForwardingListener(revoked, assigned)
    first, second = TopicPartition("t", 0), TopicPartition("t", 1)
    await listener.on_partitions_revoked([first])
    await listener.on_partitions_assigned([first, second])
    assert calls == [("revoked", [first]), ("assigned", [first, second])]
