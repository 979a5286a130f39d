"""What chat-api and chat-worker both build: the store, its repositories, the producer and
the outbox's fast path, opened and closed in one place."""

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from chat_common.background import running
from chat_service.config import Settings
from chat_service.domain.changes import MessageChanges
from chat_service.outbox.fast_path import FastPath
from chat_service.outbox.publisher import EventPublisher, KafkaUnavailable
from chat_service.store.blocks import BLOCK_STATEMENTS, BlockRepository
from chat_service.store.cassandra import CassandraStore
from chat_service.store.changes import CHANGE_STATEMENTS, ChangeRepository
from chat_service.store.chats import STATEMENTS, ChatRepository
from chat_service.store.counts import COUNTS_STATEMENTS, CountsStore

_KAFKA_STARTUP_WAIT_SECONDS = 5.0


@contextlib.contextmanager
def gil_switch_interval(seconds: float) -> Iterator[None]:
    """CPython's thread switch interval set to `seconds` inside, restored after."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


@dataclass(frozen=True)
class Core:
    """The store's repositories and the outbox's way to Kafka."""

    store: CassandraStore
    chats: ChatRepository
    changes: ChangeRepository
    counts: CountsStore
    blocks: BlockRepository
    publisher: EventPublisher
    fast_path: FastPath
    message_changes: MessageChanges


@contextlib.asynccontextmanager
async def open_core(settings: Settings) -> AsyncIterator[Core]:
    """The core of `settings`, its fast path running inside; all closed on exit."""
    # The driver's reactor thread hands each Cassandra answer over (see the setting).
    with gil_switch_interval(settings.GIL_SWITCH_INTERVAL_SECONDS):
        store = CassandraStore(
            settings.cassandra_contact_points,
            settings.CASSANDRA_PORT,
            settings.CASSANDRA_KEYSPACE,
            {**STATEMENTS, **CHANGE_STATEMENTS, **COUNTS_STATEMENTS, **BLOCK_STATEMENTS},
            connect_timeout=settings.CASSANDRA_CONNECT_TIMEOUT_SECONDS,
            request_timeout=settings.CASSANDRA_REQUEST_TIMEOUT_SECONDS,
            access=settings,
        )
        publisher = EventPublisher(
            settings.KAFKA_BOOTSTRAP_SERVERS,
            settings.KAFKA_TOPIC,
            settings.KAFKA_REQUEST_TIMEOUT_MS,
            access=settings,
        )
        chats = ChatRepository(store)
        changes = ChangeRepository(store)
        fast_path = FastPath(chats, publisher)
        try:
            # Start the producer now if Kafka answers quickly, so a fresh instance announces
            # at once; if not, the fast path keeps trying and changes are accepted meanwhile.
            with contextlib.suppress(KafkaUnavailable, TimeoutError):
                await asyncio.wait_for(publisher.ensure_started(), _KAFKA_STARTUP_WAIT_SECONDS)
            # Stopping mid-send loses nothing: unacknowledged rows stay in the outbox.
            async with running([fast_path]):
                yield Core(
                    store=store,
                    chats=chats,
                    changes=changes,
                    counts=CountsStore(store),
                    blocks=BlockRepository(store),
                    publisher=publisher,
                    fast_path=fast_path,
                    message_changes=MessageChanges(chats, changes, fast_path.notify),
                )
        finally:
            await publisher.stop()
            await store.close()
