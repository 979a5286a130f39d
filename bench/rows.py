"""Rows written with the raw driver: the insert baseline and the deep chat's history.

Both use the chat-service's own statements (`chat_service.store.chats.STATEMENTS`) in the
bench keyspace, so the baseline is the same single-row insert into the same table.
"""

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from cassandra.cluster import Cluster, ResponseFuture, Session
from cassandra.concurrent import execute_concurrent_with_args
from cassandra.query import BatchStatement, BatchType
from cassandra.util import uuid_from_time

from chat_service.config import Settings
from chat_service.domain.timeuuids import bucket_start
from chat_service.store.cassandra import build_cluster
from chat_service.store.chats import STATEMENTS
from chat_service.store.schema import qualify

SEED_END = datetime(2026, 1, 1, tzinfo=UTC)
SEED_BATCH = 100  # rows per unlogged batch while seeding
SEED_IN_FLIGHT = 64  # batches in flight while seeding


def connect(settings: Settings) -> tuple[Cluster, Session]:
    cluster = build_cluster(settings.cassandra_contact_points, settings.CASSANDRA_PORT, 5, 30)
    return cluster, cluster.connect()


async def driver_result(future: ResponseFuture) -> None:
    """Await a driver future (its callbacks run on the driver's thread)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def settle(exc: BaseException | None) -> None:
        if not done.done():
            done.set_exception(exc) if exc else done.set_result(None)

    def ok(_rows: object) -> None:
        loop.call_soon_threadsafe(settle, None)

    def failed(exc: BaseException) -> None:
        loop.call_soon_threadsafe(settle, exc)

    future.add_callbacks(ok, failed)
    await done


async def raw_inserts(
    settings: Settings, rows: int, concurrency: int, advance: Callable[[int], None]
) -> tuple[float, list[float]]:
    """`rows` single-row inserts into `message` by `concurrency` closed-loop writers, like
    the API's senders: (seconds in all, seconds of each insert)."""
    cluster, session = await asyncio.to_thread(connect, settings)
    try:
        return await raw_inserts_on(session, settings, rows, concurrency, advance)
    finally:
        await asyncio.to_thread(cluster.shutdown)


async def raw_inserts_on(
    session: Session,
    settings: Settings,
    rows: int,
    concurrency: int,
    advance: Callable[[int], None],
) -> tuple[float, list[float]]:
    """`raw_inserts` on a session already connected."""
    insert = await asyncio.to_thread(
        session.prepare, qualify(STATEMENTS["insert_message"], settings.CASSANDRA_KEYSPACE)
    )
    chat, now = uuid.uuid4(), datetime.now(UTC)
    latencies: list[float] = []

    async def writer(first: int) -> None:
        for i in range(first, rows, concurrency):
            message_id = uuid_from_time(now + timedelta(microseconds=i))
            bucket = bucket_start(message_id, settings.MESSAGE_BUCKET_SECONDS)
            started = time.perf_counter()
            await driver_result(
                session.execute_async(insert, (chat, bucket, message_id, chat, "raw"))
            )
            latencies.append(time.perf_counter() - started)
            advance(1)

    started = time.perf_counter()
    await asyncio.gather(*(writer(i) for i in range(concurrency)))
    return time.perf_counter() - started, latencies


def deep_ids(total: int) -> list[uuid.UUID]:
    """The deep chat's message ids, newest first: one a second, ending at SEED_END."""
    return [uuid_from_time(SEED_END - timedelta(seconds=i)) for i in range(total)]


def seed_deep_chat(
    settings: Settings,
    chat_id: uuid.UUID,
    sender: uuid.UUID,
    ids: list[uuid.UUID],
    advance: Callable[[int], None],
) -> bool:
    """Write the deep chat unless a run before did (False then); `advance(n)` per n rows."""
    keyspace, seconds = settings.CASSANDRA_KEYSPACE, settings.MESSAGE_BUCKET_SECONDS
    by_bucket: dict[int, list[uuid.UUID]] = {}
    for message_id in ids:
        by_bucket.setdefault(bucket_start(message_id, seconds), []).append(message_id)
    cluster, session = connect(settings)
    try:
        select = session.prepare(qualify(STATEMENTS["select_buckets"], keyspace))
        existing = list(session.execute(select, (chat_id, 2**63 - 1, len(by_bucket) + 1)))
        if len(existing) == len(by_bucket):
            advance(len(ids))
            return False
        insert = session.prepare(qualify(STATEMENTS["insert_message"], keyspace))
        # Unlogged batches of one partition's rows: the cheap way to bulk-load (seeding
        # only; the service writes one message at a time). Built as they are sent, so a
        # million rows never sit in memory at once.
        slices = [
            (bucket, members[offset : offset + SEED_BATCH])
            for bucket, members in by_bucket.items()
            for offset in range(0, len(members), SEED_BATCH)
        ]
        for first in range(0, len(slices), SEED_IN_FLIGHT):
            futures = []
            for bucket, rows in slices[first : first + SEED_IN_FLIGHT]:
                batch = BatchStatement(batch_type=BatchType.UNLOGGED)
                for message_id in rows:
                    batch.add(insert, (chat_id, bucket, message_id, sender, "deep"))
                futures.append((session.execute_async(batch), len(rows)))
            for future, size in futures:
                future.result()
                advance(size)
        # The bucket index last: a half-seeded chat is seeded again by the next run.
        index = session.prepare(qualify(STATEMENTS["insert_bucket"], keyspace))
        execute_concurrent_with_args(
            session, index, [(chat_id, b) for b in by_bucket], concurrency=64
        )
        return True
    finally:
        cluster.shutdown()
