"""The sweeper deletes expired batches and nothing else (the emulator has no TTL policy)."""

import uuid
from datetime import UTC, datetime, timedelta

from google.cloud.firestore import AsyncClient

from aggregator.aggregation import AggregationConfig, CompletedBy, CompletedGroup, Message
from aggregator.sink import FirestoreSink
from aggregator.sweeper import sweep


def one_group(chat_id: str, sender: str) -> CompletedGroup:
    mid = uuid.uuid1()
    msg = Message(mid, chat_id, sender, "hello", 0)
    window = AggregationConfig().window_start(msg.time_ms)
    return CompletedGroup(chat_id, sender, window, (msg,), CompletedBy.EAGER)


async def test_sweep_deletes_only_expired_batches(firestore: AsyncClient) -> None:
    chat = str(uuid.uuid4())
    alice, bob = str(uuid.uuid4()), str(uuid.uuid4())
    short = FirestoreSink(firestore, ttl_seconds=60)
    long = FirestoreSink(firestore, ttl_seconds=86_400)
    await short.write([one_group(chat, alice)])
    await long.write([one_group(chat, bob)])
    assert list(short.chats) == [chat]

    col = firestore.collection("chats").document(chat).collection("batches")
    now = datetime.now(UTC)
    assert await sweep(firestore, short.chats, now=now) == 0
    assert short.chats.due(now) == []  # nothing there can have expired yet: not queried
    later = now + timedelta(minutes=5)
    assert short.chats.due(later) == [chat]
    assert await sweep(firestore, short.chats.due(later), now=later) == 1
    remaining = [s.to_dict() async for s in col.stream()]
    assert [d["sender_id"] for d in remaining] == [bob]
    # Every batch the short-lived sink wrote there has expired and gone: it forgets the chat.
    short.chats.swept(later)
    long.chats.swept(later)
    assert list(short.chats) == [] and list(long.chats) == [chat]
