"""A duplicated event never becomes a second document, through `python -m aggregator`.

Duplicates are the same record value produced again: an outbox re-announce, a watermark
replay, two concurrent sends with one client_message_id.
"""

import uuid
from typing import Any

from chat_common.contract.times import unix_millis

WINDOW_MS = 1000


def ids_in_one_window(n: int) -> list[uuid.UUID]:
    """n fresh time UUIDs of one aggregation window (so their documents share slots)."""
    while True:
        ids = [uuid.uuid1() for _ in range(n)]
        windows = {unix_millis(i) // WINDOW_MS for i in ids}
        if len(windows) == 1:
            return ids


def metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    return 0.0


async def test_duplicate_after_an_eager_message_in_the_same_flush_is_one_document(
    events: Any, start_aggregator: Any, batches: Any, chat_ids: Any, all_committed: Any
) -> None:
    (chat,) = chat_ids(1)
    first, second = ids_in_one_window(2)
    # Produced before the aggregator starts, so it is behind: the eager message, its
    # duplicate and the next message of the window all come in one fetch and one flush.
    await events.send(chat, "alice", "first", message_id=first)
    await events.redeliver(first)
    await events.send(chat, "alice", "second", message_id=second)
    await events.flush()
    agg = await start_aggregator()
    assert await all_committed() == (3, 3), agg.tail()
    docs = await batches.read([chat])
    assert batches.id_counts(docs) == {str(first): 1, str(second): 1}
    assert sorted((d["completed_by"], d["count"]) for d in docs) == [("eager", 1), ("window", 1)]


async def test_duplicate_in_a_later_flush_and_after_a_restart_writes_nothing(
    events: Any, start_aggregator: Any, batches: Any, chat_ids: Any, all_committed: Any
) -> None:
    (chat,) = chat_ids(1)
    agg = await start_aggregator()
    message = await events.send(chat, "alice", "once")
    await events.flush()
    assert await all_committed() == (1, 1), agg.tail()
    assert len(await batches.read([chat])) == 1

    await events.redeliver(message)  # a later flush of the same process
    await events.flush()
    assert await all_committed() == (2, 2), agg.tail()
    assert len(await batches.read([chat])) == 1

    agg.kill9()
    fresh = await start_aggregator()  # knows nothing of the window's documents
    await events.redeliver(message)
    await events.flush()
    assert await all_committed() == (3, 3), fresh.tail()
    docs = await batches.read([chat])
    assert batches.id_counts(docs) == {str(message): 1} and len(docs) == 1
    # The fresh process found the message by reading the window's taken slot.
    assert metric(await fresh.metrics(), "aggregator_firestore_reads_total") >= 1
    assert metric(await fresh.metrics(), "aggregator_firestore_writes_total") == 0
