"""Aggregator benchmark: Firestore writes per message, send-to-Firestore delay, throughput.

Runs against the local servers (`make up`: Kafka 127.0.0.1:9092, Firestore emulator
127.0.0.1:8080) on throwaway topics and chats, with the aggregator in this process:

1. A chatty pair (two senders in one chat, 5 messages/s each) and sporadic senders (one
   message every few seconds each), side by side: Firestore documents per message (the
   naive one-document-per-message design is 1.0) and the send-to-Firestore delay p50/p95.
2. A backlog of messages on a fresh topic: the aggregator's messages/s (consumed and
   written to Firestore) beside a bare aiokafka consumer's on the same topic.

Usage: /work/main/.venv/bin/python bench/aggregator/run.py [--seconds 12] [--backlog 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
import uuid
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from aggregator.aggregation import AggregationConfig, Aggregator
from aggregator.consumer import AggregatingConsumer, start_kafka_clients
from aggregator.events import parse_event
from aggregator.sink import FirestoreSink
from chat_common.contract.events import MessageCreated
from chat_common.contract.firestore import async_firestore_client
from chat_common.contract.times import unix_millis

KAFKA = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
EMULATOR = os.environ.get("FIRESTORE_EMULATOR_HOST", "127.0.0.1:8080")
PROJECT = os.environ.get("FIRESTORE_PROJECT", "demo-chat")
PARTITIONS = 4
# Every chat's other member (the bench only looks at who sends).
PEER = uuid.uuid4()


def created(message_id: uuid.UUID, chat: str, who: str, text: str) -> bytes:
    """The event chat-service produces for a stored message."""
    sender = uuid.UUID(who)
    return MessageCreated.of(message_id, uuid.UUID(chat), sender, (sender, PEER), text).encode()


@dataclass
class Scenario:
    name: str
    chats: dict[str, list[str]] = field(default_factory=dict)  # chat -> message ids

    def record(self, chat_id: str, message_id: uuid.UUID) -> None:
        self.chats.setdefault(chat_id, []).append(str(message_id))

    @property
    def messages(self) -> int:
        return sum(len(v) for v in self.chats.values())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def new_topic(admin: AIOKafkaAdminClient, tag: str) -> str:
    name = f"bench-agg-{tag}-{uuid.uuid4().hex[:8]}"
    await admin.create_topics([NewTopic(name, PARTITIONS, replication_factor=1)])
    return name


async def start_aggregator(
    topic: str, window_ms: int = 1000
) -> tuple[AggregatingConsumer, asyncio.Task[None], list[object]]:
    client = async_firestore_client(PROJECT, EMULATOR)
    consumer, producer = await start_kafka_clients(KAFKA, f"{topic}-aggregator")
    runner = AggregatingConsumer(
        consumer,
        producer,
        FirestoreSink(client, 3600),
        AggregationConfig(window_ms=window_ms),
        topic=topic,
        dlq_topic=f"{topic}-dlq",
    )
    runner.subscribe()
    task = asyncio.create_task(runner.run())
    while not runner.assigned:
        await asyncio.sleep(0.05)
    return runner, task, [consumer, producer, client]


async def stop_aggregator(
    runner: AggregatingConsumer, task: asyncio.Task[None], parts: list[object]
) -> None:
    runner.stop()
    await task
    consumer, producer, client = parts
    await consumer.stop()  # type: ignore[attr-defined]
    await producer.stop()  # type: ignore[attr-defined]
    client.close()  # type: ignore[attr-defined]


async def send(producer: AIOKafkaProducer, topic: str, s: Scenario, chat: str, who: str) -> None:
    message_id = uuid.uuid1()
    await producer.send(topic, key=chat.encode(), value=created(message_id, chat, who, "hi"))
    s.record(chat, message_id)


async def chatty_pair(producer: AIOKafkaProducer, topic: str, s: Scenario, seconds: float) -> None:
    chat = str(uuid.uuid4())

    async def sender(who: str) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            await send(producer, topic, s, chat, who)
            await asyncio.sleep(0.2)  # 5 messages/s

    await asyncio.gather(sender(str(uuid.uuid4())), sender(str(uuid.uuid4())))


async def sporadic(producer: AIOKafkaProducer, topic: str, s: Scenario, seconds: float) -> None:
    rng = random.Random(1)

    async def sender(chat: str, who: str) -> None:
        await asyncio.sleep(rng.uniform(0, 3))
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            await send(producer, topic, s, chat, who)
            await asyncio.sleep(rng.uniform(2.5, 4.0))  # one message every few seconds

    await asyncio.gather(*(sender(str(uuid.uuid4()), str(uuid.uuid4())) for i in range(6)))


async def written(scenario: Scenario, timeout: float = 30) -> tuple[int, list[float]]:
    """Documents and per-message delays (message time to the document's created_at)."""
    client = async_firestore_client(PROJECT, EMULATOR)
    try:
        deadline = time.monotonic() + timeout
        while True:
            docs = []
            for chat in scenario.chats:
                col = client.collection("chats").document(chat).collection("batches")
                docs += [snap.to_dict() async for snap in col.stream()]
            ids = {m["id"] for d in docs for m in d["messages"]}
            if len(ids) >= scenario.messages or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        delays = [
            d["created_at"].timestamp() - unix_millis(uuid.UUID(m["id"])) / 1000
            for d in docs
            for m in d["messages"]
        ]
        return len(docs), delays
    finally:
        client.close()


async def traffic_shapes(admin: AIOKafkaAdminClient, seconds: float) -> None:
    topic = await new_topic(admin, "shapes")
    runner, task, parts = await start_aggregator(topic)
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, linger_ms=0)
    await producer.start()
    chatty, sparse = Scenario("chatty pair (2 x 5 msg/s)"), Scenario("sporadic (6 senders)")
    try:
        await asyncio.gather(
            chatty_pair(producer, topic, chatty, seconds),
            sporadic(producer, topic, sparse, seconds),
        )
        await producer.flush()
        results = [(s, await written(s)) for s in (chatty, sparse)]
    finally:
        await producer.stop()
        await stop_aggregator(runner, task, parts)
    print(f"\n1. Traffic shapes over {seconds:.0f} s (window 1000 ms, naive design = 1.00)")
    print(
        f"   {'scenario':28} {'msgs':>5} {'docs':>5} {'writes/msg':>10} {'p50 ms':>7} {'p95 ms':>7}"
    )
    for s, (docs, delays) in results:
        ms = [d * 1000 for d in delays]
        print(
            f"   {s.name:28} {s.messages:5d} {docs:5d} {docs / max(s.messages, 1):10.2f}"
            f" {statistics.median(ms):7.0f} {percentile(ms, 0.95):7.0f}"
        )
    await admin.delete_topics([topic])


async def throughput(admin: AIOKafkaAdminClient, backlog: int) -> None:
    topic = await new_topic(admin, "rate")
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, linger_ms=20, max_batch_size=262144)
    await producer.start()
    chats = [str(uuid.uuid4()) for _ in range(200)]
    senders = (str(uuid.uuid4()), str(uuid.uuid4()))
    rng = random.Random(2)
    futures = []
    for _ in range(backlog):
        chat = rng.choice(chats)
        mid = uuid.uuid1()
        who = rng.choice(senders)
        value = created(mid, chat, who, "x" * rng.randint(10, 120))
        futures.append(await producer.send(topic, key=chat.encode(), value=value))
    await asyncio.gather(*futures)
    await producer.stop()

    bare = AIOKafkaConsumer(
        topic, bootstrap_servers=KAFKA, group_id=None, auto_offset_reset="earliest"
    )
    await bare.start()
    seen, started = 0, time.perf_counter()
    while seen < backlog:
        batch = await bare.getmany(timeout_ms=500, max_records=1000)
        seen += sum(len(v) for v in batch.values())
    bare_rate = backlog / (time.perf_counter() - started)
    await bare.stop()

    # The same consumer plus parsing and the aggregation core, no Firestore: where time goes.
    core = AIOKafkaConsumer(
        topic, bootstrap_servers=KAFKA, group_id=None, auto_offset_reset="earliest"
    )
    await core.start()
    aggregator = Aggregator(AggregationConfig())
    seen, groups, started = 0, 0, time.perf_counter()
    while seen < backlog:
        batch = await core.getmany(timeout_ms=500, max_records=1000)
        now_ms = int(time.time() * 1000)
        for records in batch.values():
            for record in records:
                groups += len(aggregator.add(parse_event(record.value, record.offset), now_ms))
            seen += len(records)
        groups += len(aggregator.expire(now_ms))
    core_rate = backlog / (time.perf_counter() - started)
    await core.stop()

    runner, task, parts = await start_aggregator(topic)  # returns once assigned
    started = time.perf_counter()
    while runner.messages_written < backlog:
        await asyncio.sleep(0.05)
    agg_seconds = time.perf_counter() - started
    docs = runner.documents_written
    await stop_aggregator(runner, task, parts)
    agg_rate = backlog / agg_seconds
    print(f"\n2. Throughput on a backlog of {backlog} messages ({PARTITIONS} partitions, 400 keys)")
    print(f"   bare aiokafka consumer : {bare_rate:9.0f} msg/s")
    print(f"   + parse + aggregate    : {core_rate:9.0f} msg/s  (no Firestore; {groups} groups)")
    print(
        f"   aggregator             : {agg_rate:9.0f} msg/s  (consumed, aggregated and written"
        f" as {docs} documents, {docs / backlog:.3f} writes/msg)"
    )
    print(f"   ratio aggregator/bare  : {agg_rate / bare_rate:9.4f}")
    print(f"   ratio core/bare        : {core_rate / bare_rate:9.4f}")
    await admin.delete_topics([topic])


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--backlog", type=int, default=20_000)
    args = parser.parse_args()
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        await traffic_shapes(admin, args.seconds)
        await throughput(admin, args.backlog)
    finally:
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
