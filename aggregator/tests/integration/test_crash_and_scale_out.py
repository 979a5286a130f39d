"""Every message in exactly one document, whatever is killed, stopped or rebalanced."""

import asyncio
import random
import time
from typing import Any

FAST = {"AGG_WINDOW_MS": "500", "KAFKA_SESSION_TIMEOUT_MS": "6000"}


async def flow(events: Any, chats: list[str], seconds: float, rate: float = 40.0) -> None:
    """`seconds * rate` messages from two senders per chat, paced at `rate` per second.

    The count is fixed, not the duration: on a busy machine the flow takes longer.
    """
    rng = random.Random(7)
    start = time.monotonic()
    for i in range(int(seconds * rate)):
        chat = rng.choice(chats)
        await events.send(chat, rng.choice(["alice", "bob"]), "x" * rng.randint(1, 200))
        await asyncio.sleep(max(0.0, start + (i + 1) / rate - time.monotonic()))
    await events.flush()


def assert_exactly_once(batches: Any, docs: list[dict[str, Any]], expected: set[str]) -> None:
    counts = batches.id_counts(docs)
    missing = expected - set(counts)
    twice = {i: n for i, n in counts.items() if n > 1}
    assert not missing, f"{len(missing)} of {len(expected)} messages never written"
    assert not twice, f"{len(twice)} messages in more than one document"
    assert set(counts) == expected


async def test_kill_9_repeatedly_while_messages_flow(
    events: Any, start_aggregator: Any, batches: Any, chat_ids: Any, group_offsets: Any
) -> None:
    chats = chat_ids(6)
    producing = asyncio.create_task(flow(events, chats, seconds=12))
    for _ in range(3):
        agg = await start_aggregator(**FAST)
        await asyncio.sleep(random.uniform(1.5, 3.0))
        agg.kill9()
    final = await start_aggregator(**FAST)
    await producing
    docs = await batches.wait_for(chats, events.ids, timeout=60)
    assert_exactly_once(batches, docs, events.ids)
    assert len(events.ids) == 480
    # Still aggregating (about 1.7 messages per sender and 500 ms window at this rate).
    assert len(docs) < len(events.ids)
    # The crashes did redeliver written messages (resolved by reading the taken slots).
    reads = [
        line
        for line in (await final.metrics()).splitlines()
        if line.startswith("aggregator_firestore_reads_total ")
    ]
    assert reads and float(reads[0].split()[1]) > 0, "no redelivered message was exercised"
    final.terminate()
    committed, end = await group_offsets()
    assert committed == end == len(events.ids)


async def test_two_processes_share_partitions_one_stopped_mid_stream(
    events: Any, start_aggregator: Any, batches: Any, chat_ids: Any, group_offsets: Any
) -> None:
    chats = chat_ids(8)
    first = await start_aggregator(**FAST)
    producing = asyncio.create_task(flow(events, chats, seconds=10))
    await asyncio.sleep(2)
    second = await start_aggregator(**FAST)  # a rebalance: the first flushes what it gives up
    await asyncio.sleep(3)
    first.terminate()
    await producing
    docs = await batches.wait_for(chats, events.ids, timeout=60)
    assert_exactly_once(batches, docs, events.ids)
    log = first.log.read_text()
    assert "partitions revoked: [0" in log, "the first process never gave up a partition"
    assert "partitions assigned: [" in second.log.read_text()
    second.terminate()
    committed, end = await group_offsets()
    assert committed == end == len(events.ids)
