"""Aggregator throughput on a backlog, against a baseline doing the same sink work.

Baseline: a bare aiokafka consumer that parses each event and creates, in plain batched
commits of at most 500, as many documents (same fields, same messages) as the aggregator
wrote, into the same emulator. The aggregator runs in this process with the production
Kafka client settings, on a throwaway topic.
"""

import asyncio
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from aggregator.aggregation import AggregationConfig, Message
from aggregator.config import Settings
from aggregator.events import parse_event
from aggregator.main import consume_loop
from aggregator.projection import AggregatorProjection
from aggregator.sink import FirestoreSink, batch_document
from bench.options import Options
from bench.progress import bars
from bench.results import Headline, Results, fmt, table
from chat_common.consume.dead_letters import KafkaDeadLetterSink
from chat_common.contract.documents import chat_batches
from chat_common.contract.events import MessageCreated
from chat_common.contract.firestore import async_firestore_client

PARTITIONS = 4
CHATS = 200
COMMIT_LIMIT = 500  # creates per batched commit, as the aggregator's sink
DRAIN_MIN_RATE = 50.0  # msg/s below which the aggregator is taken to be stuck


async def _fill(options: Options, topic: str, chats: list[uuid.UUID]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=options.kafka,
        linger_ms=20,
        max_batch_size=262144,
        **options.kafka_access(),
    )
    await producer.start()
    try:
        rng = random.Random(2)
        members = (uuid.uuid4(), uuid.uuid4())
        pending = []
        for _ in range(options.backlog):
            event = MessageCreated.of(
                uuid.uuid1(),
                rng.choice(chats),
                rng.choice(members),
                members,
                "x" * rng.randint(10, 120),
            )
            pending.append(await producer.send(topic, key=event.key(), value=event.encode()))
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def _aggregator(options: Options, topic: str) -> tuple[float, int]:
    """Seconds the aggregator took to write the whole backlog, and its document count."""
    db = async_firestore_client(options.firestore_project, options.firestore)
    settings = Settings(
        KAFKA_BOOTSTRAP_SERVERS=options.kafka,
        KAFKA_TOPIC=topic,
        KAFKA_DLQ_TOPIC=f"{topic}-dlq",
        KAFKA_GROUP_ID=f"{topic}-aggregator",
    )
    runner = AggregatorProjection(FirestoreSink(db, 3600), AggregationConfig())
    dead_letters = KafkaDeadLetterSink(options.kafka, settings)
    loop = consume_loop(settings, runner, dead_letters)
    task = asyncio.create_task(loop.run())
    try:
        with bars() as progress:
            bar = progress.add_task("aggregator on the backlog", total=options.backlog)
            deadline = time.monotonic() + 60 + options.backlog / DRAIN_MIN_RATE
            started = None
            while runner.messages_written < options.backlog and time.monotonic() < deadline:
                if started is None and loop.assigned.is_set():
                    started = time.perf_counter()
                progress.update(bar, completed=runner.messages_written)
                await asyncio.sleep(0.05)  # sampling a counter; the run itself is the event
            progress.update(bar, completed=runner.messages_written)
            if runner.messages_written < options.backlog:
                raise RuntimeError(
                    f"aggregator wrote {runner.messages_written} of {options.backlog}"
                )
        return time.perf_counter() - (started or time.perf_counter()), runner.documents_written
    finally:
        loop.stop()
        await task
        await dead_letters.close()
        db.close()


async def _baseline(options: Options, topic: str, documents: int) -> float:
    """Seconds for a bare consumer plus batched creates of `documents` documents."""
    db = async_firestore_client(options.firestore_project, options.firestore)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=options.kafka,
        group_id=None,
        auto_offset_reset="earliest",
        **options.kafka_access(),
    )
    await consumer.start()
    now, ttl = datetime.now(UTC), timedelta(hours=1)
    seen, written, pending = 0, 0, list[Message]()

    async def create(groups: list[list[Message]]) -> None:
        for offset in range(0, len(groups), COMMIT_LIMIT):
            batch = db.batch()
            for group in groups[offset : offset + COMMIT_LIMIT]:
                first = group[0]
                ref = db.collection(chat_batches(first.chat_id)).document()
                batch.create(
                    ref, batch_document(first.chat_id, first.sender_id, group, "bench", now, ttl)
                )
            await batch.commit()

    try:
        with bars() as progress:
            bar = progress.add_task("baseline: consumer + batched creates", total=options.backlog)
            started = time.perf_counter()
            while seen < options.backlog:
                fetched = await consumer.getmany(timeout_ms=500, max_records=1000)
                for records in fetched.values():
                    parsed = (parse_event(r.value, r.offset) for r in records)
                    pending += [message for message in parsed if message is not None]
                    seen += len(records)
                due = round(seen * documents / options.backlog) - written  # keep pace with input
                if due > 0:
                    size = -(-len(pending) // due)
                    groups = [pending[i : i + size] for i in range(0, len(pending), size)]
                    await create(groups)
                    written, pending = written + len(groups), []
                progress.update(bar, completed=seen)
            if pending:
                await create([pending])
            return time.perf_counter() - started
    finally:
        await consumer.stop()
        db.close()


async def _clean_up(options: Options, chats: list[uuid.UUID]) -> None:
    """Delete what both runs wrote: the emulator keeps every document in memory."""
    db = async_firestore_client(options.firestore_project, options.firestore)
    try:
        with bars() as progress:
            bar = progress.add_task("deleting the bench's documents", total=len(chats))
            for chat_id in chats:
                refs = [
                    doc.reference async for doc in db.collection(chat_batches(chat_id)).stream()
                ]
                for offset in range(0, len(refs), COMMIT_LIMIT):
                    batch = db.batch()
                    for ref in refs[offset : offset + COMMIT_LIMIT]:
                        batch.delete(ref)
                    await batch.commit()
                progress.advance(bar)
    finally:
        db.close()


async def run(options: Options, results: Results) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=options.kafka, **options.kafka_access())
    await admin.start()
    topic = f"bench-agg-rate-{uuid.uuid4().hex[:8]}"
    chats = [uuid.uuid4() for _ in range(CHATS)]
    try:
        await admin.create_topics(
            [NewTopic(name, PARTITIONS, replication_factor=1) for name in (topic, f"{topic}-dlq")]
        )
        await _fill(options, topic, chats)
        agg_seconds, documents = await _aggregator(options, topic)
        base_seconds = await _baseline(options, topic, documents)
    finally:
        await admin.delete_topics([topic, f"{topic}-dlq"])
        await admin.close()
        await _clean_up(options, chats)
    f = results.figure
    agg = f("aggregator.rate_per_s", options.backlog / agg_seconds)
    base = f("aggregator.baseline_rate_per_s", options.backlog / base_seconds)
    f("aggregator.ratio", agg / base)
    f("aggregator.docs_per_message", documents / options.backlog)
    results.headline(
        Headline("Aggregator throughput", agg, "msg/s", "consumer + batched creates", base)
    )
    results.section(
        "Aggregator",
        f"A backlog of {options.backlog:,} events ({PARTITIONS} partitions, {CHATS} chats, two "
        "senders each) consumed from the start. The baseline consumes the same backlog with a "
        f"bare aiokafka consumer and creates the same number of documents ({documents:,}, the "
        "same fields and messages) in batched commits of at most 500 into the same emulator.\n\n"
        + table(
            ["", "msg/s", "documents"],
            [["aggregator", fmt(agg), f"{documents:,}"], ["baseline", fmt(base), f"{documents:,}"]],
        ),
    )
