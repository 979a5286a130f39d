"""chat-api's lifespan: the clients and services its routes use, on `app.state`."""

import contextlib
from collections.abc import AsyncIterator, Mapping
from functools import partial

import httpx
from fastapi import FastAPI

from auth_validator import TokenValidator
from chat_common.background import running
from chat_common.consume.clients import tail_consumer
from chat_common.consume.tail import Tail
from chat_common.contract.firestore import firestore_client
from chat_common.observability import ReadinessCheck
from chat_common.service_app import state_of
from chat_service.api.realtime import BatchFeed
from chat_service.api.refused_sessions import RefusedSessions
from chat_service.api.send_rate import SendRateLimiter
from chat_service.api.stream_slots import StreamSlots
from chat_service.api.users import UserDirectory
from chat_service.config import Settings
from chat_service.core import Core, open_core
from chat_service.domain.blocks import Blocks
from chat_service.domain.chat_list import ChatList
from chat_service.domain.chats import ChatService
from chat_service.domain.read_marks import ReadMarks
from chat_service.domain.reports import Reports

# Threads that open SSE listeners (each open is a short blocking gRPC call).
_LISTENER_OPEN_THREADS = 8


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = state_of(app, "settings", Settings)
    async with open_core(settings) as core, contextlib.AsyncExitStack() as stack:
        auth_http = await stack.enter_async_context(
            httpx.AsyncClient(
                timeout=httpx.Timeout(settings.AUTH_SERVICE_TIMEOUT_SECONDS, connect=1.0)
            )
        )
        app.state.token_validator = TokenValidator(settings)
        stack.push_async_callback(app.state.token_validator.aclose)
        # Building the client opens no connection; listeners connect per stream.
        app.state.batch_feed = BatchFeed(
            firestore_client(settings.FIRESTORE_PROJECT, settings.FIRESTORE_EMULATOR_HOST),
            queue_size=settings.SSE_QUEUE_SIZE,
            open_threads=_LISTENER_OPEN_THREADS,
        )
        stack.callback(app.state.batch_feed.close)
        _serve(app, settings, core, UserDirectory(auth_http, settings.AUTH_SERVICE_URL))
        tail = Tail(
            partial(tail_consumer, settings.KAFKA_BOOTSTRAP_SERVERS, settings),
            settings.USER_EVENTS_TOPIC,
            app.state.refused_sessions.read,
        )
        async with running([tail]):
            yield


def _serve(app: FastAPI, settings: Settings, core: Core, users: UserDirectory) -> None:
    """Put on `app.state` what the routes' dependencies take."""
    app.state.core = core
    app.state.stream_slots = StreamSlots(
        settings.SSE_MAX_STREAMS_PER_USER, settings.SSE_MAX_STREAMS
    )
    app.state.send_rate = SendRateLimiter(settings.SEND_RATE_PER_SECOND, settings.SEND_RATE_BURST)
    app.state.chat_start_rate = SendRateLimiter(
        settings.CHAT_START_RATE_PER_SECOND, settings.CHAT_START_BURST
    )
    app.state.refused_sessions = RefusedSessions()
    app.state.chat_service = ChatService(
        core.chats, users, core.fast_path.notify, settings.MESSAGE_BUCKET_SECONDS
    )
    app.state.message_changes = core.message_changes
    app.state.read_marks = ReadMarks(core.chats, core.counts, core.fast_path.notify)
    app.state.chat_list = ChatList(core.chats, core.counts)
    app.state.blocks = Blocks(core.blocks, users, max_age=settings.BLOCK_CACHE_SECONDS)
    app.state.reports = Reports(core.changes, core.publisher.send_one, settings.MODERATION_TOPIC)
    app.state.report_rate = SendRateLimiter(
        settings.REPORT_RATE_PER_SECOND, settings.REPORT_RATE_BURST
    )


def readiness_checks(app: FastAPI) -> Mapping[str, ReadinessCheck]:
    core = state_of(app, "core", Core)
    return {"cassandra": core.store.ping, "kafka": core.publisher.check}
