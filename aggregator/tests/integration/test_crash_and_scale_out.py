"""Every message in exactly one document, whatever is killed, stopped or rebalanced."""

import asyncio
import random
import time
from typing import Any

FAST = {"AGG_WINDOW_MS": "500", "KAFKA_SESSION_TIMEOUT_MS": "6000"}


async def flow(
    events: Any,
    chats: list[str],
    seconds: float,
    rate: float = 40.0,
    stop: asyncio.Event | None = None,
) -> None:
    """`seconds * rate` messages from two senders per chat, paced at `rate` per second.

    The count is fixed, not the duration: on a busy machine the flow takes longer. With
    `stop`, the flow also ends once it is set.
    """
    rng = random.Random(7)
    start = time.monotonic()
    for i in range(int(seconds * rate)):
        if stop is not None and stop.is_set():
            break
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
    stop = asyncio.Event()
    producing = asyncio.create_task(flow(events, chats, seconds=600, stop=stop))
    crashed = []
    for _ in range(3):
        agg = await start_aggregator(**FAST)
        # Each crash hits a process that owns the partitions (after the dead one's session
        # expired) and has worked on them for a random moment, while messages flow.
        await agg.logged("partitions assigned: [0, 1, 2, 3]")
        await asyncio.sleep(random.uniform(0.5, 2.0))
        agg.kill9()
        crashed.append(agg)
    final = await start_aggregator(**FAST)
    await final.logged("partitions assigned: [0, 1, 2, 3]")
    stop.set()
    await producing
    docs = await batches.wait_for(chats, events.ids, timeout=60)
    assert_exactly_once(batches, docs, events.ids)
    assert len(events.ids) > 300
    # Still aggregating (about 1.7 messages per sender and 500 ms window at this rate).
    assert len(docs) < len(events.ids)
    # The crashes did redeliver written messages: a successor met their documents' slots
    # taken and read them (killed processes have no metrics left to ask, so their logs).
    final.terminate()
    assert any(
        "batched create hit a taken id" in agg.log.read_text() for agg in [*crashed[1:], final]
    ), "no redelivered message was exercised"
    committed, end = await group_offsets()
    assert committed == end == len(events.ids)


async def test_two_processes_share_partitions_one_stopped_mid_stream(
    events: Any, start_aggregator: Any, batches: Any, chat_ids: Any, group_offsets: Any
) -> None:
    chats = chat_ids(8)
    first = await start_aggregator(**FAST)
    stop = asyncio.Event()
    producing = asyncio.create_task(flow(events, chats, seconds=120, stop=stop))
    await asyncio.sleep(2)  # some traffic for the first alone
    second = await start_aggregator(**FAST)  # a rebalance: the first flushes what it gives up
    await second.logged("partitions assigned: [")
    assert "partitions revoked: [0" in first.log.read_text(), "the first never gave one up"
    first.terminate()  # mid-stream: messages keep flowing until the second has taken over
    await second.logged("partitions assigned: [0, 1, 2, 3]")
    stop.set()
    await producing
    docs = await batches.wait_for(chats, events.ids, timeout=60)
    assert_exactly_once(batches, docs, events.ids)
    second.terminate()
    committed, end = await group_offsets()
    assert committed == end == len(events.ids)
