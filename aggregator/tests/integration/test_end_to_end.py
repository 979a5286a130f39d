"""Messages produced to Kafka come out as batch documents, through `python -m aggregator`."""

import asyncio
import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer

from chat_common.contract.times import min_time_uuid
from chat_common.store_access import KafkaAccessSettings, kafka_client_kwargs

KAFKA = "127.0.0.1:9092"
# As the local `tests` Kafka user: its credentials come in the environment (infra/run-tests.sh).
ACCESS = kafka_client_kwargs(KafkaAccessSettings())


def uuid_order(message_id: str) -> tuple[int, str]:
    return (uuid.UUID(message_id).time, message_id)


def metric(text: str, name: str) -> float:
    """Sum of a metric's samples (all label sets) in a Prometheus exposition."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and (len(line) > len(name) and line[len(name)] in " {"):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_batches_hold_exactly_the_messages_in_order_per_sender(
    events: Any, start_aggregator: Any, batches: Any, chat_ids: Any, sync_firestore: Any
) -> None:
    chat_a, chat_b = chat_ids(2)
    seen: set[str] = set()
    lock = threading.Lock()

    def on_snapshot(docs: Any, changes: Any, read_time: Any) -> None:
        with lock:
            seen.update(doc.id for doc in docs)

    query = (sync_firestore.collection("chats").document(chat_a).collection("batches")).order_by(
        "last_sent_at"
    )
    watch = query.on_snapshot(on_snapshot)
    try:
        agg = await start_aggregator()
        for i in range(6):
            await events.send(chat_a, "alice", f"a{i}")
            if i < 3:
                await events.send(chat_a, "bob", f"b{i}")
            if i < 4:
                await events.send(chat_b, "carol", f"c{i}")
            await asyncio.sleep(0.05)
        await events.flush()
        docs = await batches.wait_for(events.chats, events.ids)
        counts = batches.id_counts(docs)
        assert set(counts) == events.ids
        assert set(counts.values()) == {1}, "a message is in more than one document"

        for doc in docs:
            ids = [m["id"] for m in doc["messages"]]
            assert ids == sorted(ids, key=uuid_order)
            assert doc["count"] == len(ids)
            assert doc["_id"].startswith(f"{doc['sender_id']}_")
        for chat_id, sent in events.sent.items():
            for sender in {s for _, s in sent}:
                own = sorted(
                    (d for d in docs if d["chat_id"] == chat_id and d["sender_id"] == sender),
                    key=lambda d: (d["last_sent_at"], d["_id"]),
                )
                written = [m["id"] for d in own for m in d["messages"]]
                assert written == [str(i) for i, s in sent if s == sender]
                # Quiet before: the first message went out at once, alone.
                assert own[0]["completed_by"] == "eager" and own[0]["count"] == 1
        # Aggregated: fewer documents than messages.
        assert len(docs) < len(events.ids)

        deadline = time.monotonic() + 10
        expected = {d["_id"] for d in docs if d["chat_id"] == chat_a}
        while time.monotonic() < deadline:
            with lock:
                if expected <= seen:
                    break
            await asyncio.sleep(0.2)
        with lock:
            assert expected <= seen, "the listener did not see every batch"

        text = await agg.metrics()
        assert metric(text, "aggregator_messages_in_total") == len(events.ids)
        assert metric(text, "aggregator_firestore_writes_total") == len(docs)
        assert 0 < metric(text, "aggregator_writes_per_message") < 1
        assert metric(text, "aggregator_end_to_end_delay_seconds_count") == len(events.ids)
        assert 'aggregator_groups_completed_total{reason="eager"} 3.0' in text
    finally:
        watch.unsubscribe()


async def test_sigterm_completes_open_groups_writes_commits_and_exits_fast(
    events: Any, start_aggregator: Any, batches: Any, chat_ids: Any, group_offsets: Any
) -> None:
    (chat,) = chat_ids(1)
    # A minute-long window: nothing but the eager first message completes on its own.
    agg = await start_aggregator(AGG_WINDOW_MS="60000")
    for i in range(5):
        await events.send(chat, "alice", f"m{i}")
    await events.flush()
    deadline = time.monotonic() + 20
    while metric(await agg.metrics(), "aggregator_messages_in_total") < 5:
        assert time.monotonic() < deadline, agg.tail()
        await asyncio.sleep(0.2)
    assert len(await batches.read([chat])) == 1  # only the eager one so far

    # terminate() waits at most 15 s (a hang bound): a graceful stop that never finishes fails.
    agg.terminate()
    # uvicorn re-raises SIGTERM after its graceful shutdown, so the status says "terminated".
    assert agg.proc.returncode in (0, -15), agg.tail()
    assert '"aggregator stopped"' in agg.tail(5)
    docs = await batches.read([chat])
    assert sorted((d["completed_by"], d["count"]) for d in docs) == [("eager", 1), ("stop", 4)]
    committed, end = await group_offsets()
    assert committed == end == 5


def tampered(value: bytes, **fields: str) -> bytes:
    return json.dumps({**json.loads(value), **fields}).encode()


async def test_poison_events_go_to_the_dead_letter_topic_and_do_not_block(
    events: Any, start_aggregator: Any, batches: Any, chat_ids: Any, topics: Any, all_committed: Any
) -> None:
    (chat,) = chat_ids(1)
    agg = await start_aggregator()
    valid = events.event(chat, "alice", "x", uuid.uuid1())
    in_an_hour = min_time_uuid(datetime.now(UTC) + timedelta(hours=1))
    poison = [
        # Ids that cannot name a Firestore document.
        tampered(valid, chat_id="a/b"),
        tampered(valid, sender_id="x/y"),
        # Dated an hour ahead: it would hold back the partition's commits for that hour.
        events.event(chat, "alice", "from the future", in_an_hour),
        b"not json",
        json.dumps({"v": 1, "id": str(uuid.uuid1()), "chat_id": chat}).encode(),
        json.dumps(
            {
                "v": 2,
                "id": str(uuid.uuid1()),
                "chat_id": chat,
                "sender_id": "a",
                "text": "x",
                "sent_at": "2030-01-01T00:00:00.000Z",
            }
        ).encode(),
        json.dumps(
            {
                "v": 1,
                "id": str(uuid.uuid4()),
                "chat_id": chat,
                "sender_id": "a",
                "text": "x",
                "sent_at": "2030-01-01T00:00:00.000Z",
            }
        ).encode(),
    ]
    for value in poison:
        await events.send_raw(chat, value)
    await events.send(chat, "alice", "after the poison")
    await events.flush()
    docs = await batches.wait_for([chat], events.ids)
    assert set(batches.id_counts(docs)) == events.ids
    # The partition kept flowing: everything, the poison too, is committed.
    total = len(poison) + 1
    assert await all_committed() == (total, total), agg.tail()

    dlq = AIOKafkaConsumer(
        topics.dlq,
        bootstrap_servers=KAFKA,
        auto_offset_reset="earliest",
        group_id=None,
        **ACCESS,
    )
    await dlq.start()
    try:
        got: list[Any] = []
        deadline = time.monotonic() + 15
        while len(got) < len(poison) and time.monotonic() < deadline:
            batch = await dlq.getmany(timeout_ms=500)
            got.extend(r for records in batch.values() for r in records)
    finally:
        await dlq.stop()
    assert sorted(r.value for r in got) == sorted(poison)
    errors = {r.value: dict(r.headers)["error"] for r in got}
    assert b"chat_id" in errors[poison[0]] and b"sender_id" in errors[poison[1]]
    assert b"ahead of the clock" in errors[poison[2]]
    for record in got:
        headers = dict(record.headers)
        assert headers["error"] and headers["source"].startswith(topics.name.encode())
