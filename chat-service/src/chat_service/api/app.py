"""create_app() and the lifespan: wiring only (the skeleton is chat_common.service_app)."""

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Iterator, Mapping

import httpx
from fastapi import APIRouter, Depends, FastAPI

from auth_validator import TokenValidator
from chat_common.contract.firestore import async_firestore_client, firestore_client
from chat_common.observability import ReadinessCheck
from chat_common.service_app import ServiceSpec, create_service_app, state_of
from chat_service.api import chats, messages, reads
from chat_service.api.deleted_accounts import (
    DeletedAccountsRunner,
    DeletedUsers,
    refuse_deleted_users,
)
from chat_service.api.realtime import BatchFeed
from chat_service.api.send_rate import SendRateLimiter
from chat_service.api.stream_slots import StreamSlots
from chat_service.api.users import UserDirectory
from chat_service.api.web import web_router
from chat_service.config import Settings, get_settings
from chat_service.domain.changes import MessageChanges
from chat_service.domain.chat_list import ChatList
from chat_service.domain.chats import ChatService
from chat_service.domain.read_marks import ReadMarks
from chat_service.kafka_source import KafkaSource
from chat_service.outbox.publisher import EventPublisher, KafkaUnavailable
from chat_service.outbox.relay import OutboxRelay
from chat_service.projections.erasure import AccountEraser
from chat_service.projections.inbox.runner import inbox_runner
from chat_service.store.cassandra import CassandraStore
from chat_service.store.changes import CHANGE_STATEMENTS, ChangeRepository
from chat_service.store.chats import STATEMENTS, ChatRepository
from chat_service.store.counts import COUNTS_STATEMENTS, CountsStore

_KAFKA_STARTUP_WAIT_SECONDS = 5.0
_RELAY_STOP_SECONDS = 5.0
# Threads that open SSE listeners (each open is a short blocking gRPC call).
_LISTENER_OPEN_THREADS = 8


@contextlib.contextmanager
def gil_switch_interval(seconds: float) -> Iterator[None]:
    """CPython's thread switch interval set to `seconds` inside, restored after."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The chat service application; `settings` defaults to the environment's."""
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The driver's reactor thread hands each Cassandra answer over (see the setting).
        with gil_switch_interval(settings.GIL_SWITCH_INTERVAL_SECONDS):
            async with services(app):
                yield

    @contextlib.asynccontextmanager
    async def services(app: FastAPI) -> AsyncIterator[None]:
        store = CassandraStore(
            settings.cassandra_contact_points,
            settings.CASSANDRA_PORT,
            settings.CASSANDRA_KEYSPACE,
            {**STATEMENTS, **CHANGE_STATEMENTS, **COUNTS_STATEMENTS},
            connect_timeout=settings.CASSANDRA_CONNECT_TIMEOUT_SECONDS,
            request_timeout=settings.CASSANDRA_REQUEST_TIMEOUT_SECONDS,
            access=settings,
        )
        repository = ChatRepository(store)
        publisher = EventPublisher(
            settings.KAFKA_BOOTSTRAP_SERVERS,
            settings.KAFKA_TOPIC,
            settings.KAFKA_REQUEST_TIMEOUT_MS,
            access=settings,
        )
        relay = OutboxRelay(repository, publisher, settings.OUTBOX_SCAN_INTERVAL_SECONDS)
        auth_http = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.AUTH_SERVICE_TIMEOUT_SECONDS, connect=1.0)
        )
        validator = TokenValidator(settings)
        # Building the client opens no connection; listeners connect per stream.
        batch_feed = BatchFeed(
            firestore_client(settings.FIRESTORE_PROJECT, settings.FIRESTORE_EMULATOR_HOST),
            queue_size=settings.SSE_QUEUE_SIZE,
            open_threads=_LISTENER_OPEN_THREADS,
        )
        app.state.batch_feed = batch_feed
        app.state.stream_slots = StreamSlots(
            settings.SSE_MAX_STREAMS_PER_USER, settings.SSE_MAX_STREAMS
        )
        app.state.send_rate = SendRateLimiter(
            settings.SEND_RATE_PER_SECOND, settings.SEND_RATE_BURST
        )
        app.state.store = store
        app.state.publisher = publisher
        app.state.relay = relay
        app.state.token_validator = validator
        app.state.chat_service = ChatService(
            repository,
            UserDirectory(auth_http, settings.AUTH_SERVICE_URL),
            relay.notify,
            settings.MESSAGE_BUCKET_SECONDS,
        )
        change_repository = ChangeRepository(store)
        app.state.message_changes = MessageChanges(repository, change_repository, relay.notify)
        app.state.deleted_users = DeletedUsers()
        eraser = AccountEraser(
            repository,
            change_repository,
            app.state.message_changes,
            async_firestore_client(settings.FIRESTORE_PROJECT, settings.FIRESTORE_EMULATOR_HOST),
        )
        user_events = KafkaSource(
            settings.KAFKA_BOOTSTRAP_SERVERS,
            settings.USER_EVENTS_TOPIC,
            settings.USER_EVENTS_GROUP_ID,
            settings,
        )
        deleted_accounts = DeletedAccountsRunner(user_events, app.state.deleted_users, eraser.erase)
        deleted_task = asyncio.create_task(deleted_accounts.run(), name="deleted-accounts")
        # Start the producer now if Kafka answers quickly, so a fresh instance is ready at
        # once; if not, the relay keeps trying and sends are accepted meanwhile.
        with contextlib.suppress(KafkaUnavailable, TimeoutError):
            await asyncio.wait_for(publisher.ensure_started(), _KAFKA_STARTUP_WAIT_SECONDS)
        relay_task = asyncio.create_task(relay.run(), name="outbox-relay")
        counts = CountsStore(store)
        app.state.read_marks = ReadMarks(repository, counts, relay.notify)
        app.state.chat_list = ChatList(repository, counts)
        inbox = inbox_runner(settings, counts) if settings.INBOX_ENABLED else None
        app.state.inbox = inbox
        inbox_task = asyncio.create_task(inbox.run(), name="inbox") if inbox else None
        try:
            yield
        finally:
            # Stopping mid-send loses nothing: unacknowledged rows stay in the outbox.
            # The relay ends its loop and writes back what it published; bounded, then cut.
            relay.stop()
            deleted_accounts.stop()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(deleted_task, _RELAY_STOP_SECONDS)
            if inbox is not None and inbox_task is not None:
                inbox.stop()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(inbox_task, _RELAY_STOP_SECONDS)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(relay_task, _RELAY_STOP_SECONDS)
            await publisher.stop()
            batch_feed.close()
            await validator.aclose()
            await auth_http.aclose()
            await store.close()

    def checks(app: FastAPI) -> Mapping[str, ReadinessCheck]:
        return {
            "cassandra": state_of(app, "store", CassandraStore).ping,
            "kafka": state_of(app, "publisher", EventPublisher).check,
        }

    # A deleted account's tokens are refused by every route that takes one (deleted_accounts).
    api = APIRouter(dependencies=[Depends(refuse_deleted_users)])
    for routes in (chats.router, messages.router, reads.router):
        api.include_router(routes)
    spec = ServiceSpec(
        name="chat-service",
        description="Two-person chats and their history on Cassandra, announced on Kafka.",
        lifespan=lifespan,
        checks=checks,
        routers=[api, web_router],
        # Kafka down is not a reason to take the API out of the Service: sends are stored
        # and the outbox announces them when it is back. /readyz still reports it (503).
        optional_checks=("kafka",),
    )
    return create_service_app(spec, settings)
