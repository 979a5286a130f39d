"""The Cassandra writes of one send alone, through chat-service's own repository (no HTTP,
no auth, no Kafka): what the API's send rate is bounded by, as a second baseline."""

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from chat_service.config import Settings
from chat_service.domain.model import Message, OutboxEntry
from chat_service.domain.timeuuids import bucket_start, new_message_id
from chat_service.store.cassandra import CassandraStore
from chat_service.store.chats import STATEMENTS, ChatRepository

# The relay acknowledges per flush; batches far larger would pass Cassandra's batch size limit.
ACKS_PER_BATCH = 200


async def store_sends(
    settings: Settings, sends: int, concurrency: int, advance: Callable[[int], None]
) -> float:
    """Seconds for `sends` sends' writes (outbox row, then message and bucket index) by
    `concurrency` closed-loop writers."""
    store = CassandraStore(
        settings.cassandra_contact_points,
        settings.CASSANDRA_PORT,
        settings.CASSANDRA_KEYSPACE,
        STATEMENTS,
        request_timeout=10,
    )
    repository = ChatRepository(store)
    sender, recipient, chat = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    created = datetime.now(UTC)
    left = iter(range(sends))
    written: list[uuid.UUID] = []

    async def writer() -> None:
        for i in left:
            message = Message(id=new_message_id(), chat_id=chat, sender_id=sender, text=f"raw {i}")
            bucket = bucket_start(message.id, settings.MESSAGE_BUCKET_SECONDS)
            entry = OutboxEntry(new_message_id(), message, bucket, recipient, created)
            await repository.outbox.append(entry)
            await repository.store_message(message, bucket)
            written.append(entry.entry_id)
            advance(1)

    try:
        await repository.get_chat(chat)  # connect before the clock starts
        started = time.perf_counter()
        await asyncio.gather(*(writer() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
        # Off the clock: acknowledged as the relay would, so the bench's chat-service does
        # not sweep, repair and announce these rows during the next measurement.
        for start in range(0, len(written), ACKS_PER_BATCH):
            await repository.outbox.record_acks(written[start : start + ACKS_PER_BATCH])
        return seconds
    finally:
        await store.close()
