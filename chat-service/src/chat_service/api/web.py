"""Routes for browsers: the chat page and the live relay of a chat's Firestore batches."""

import asyncio
import html
import time
import uuid
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import HTMLResponse, StreamingResponse
from starlette.types import Receive, Scope, Send

from auth_validator import Principal
from chat_common.service_app import state_dependency
from chat_service.api.dependencies import ChatServiceDep
from chat_service.api.inbox_relay import inbox_stream
from chat_service.api.realtime import BatchFeed, event_stream, parse_since, stream_start
from chat_service.api.refused_sessions import RefusedSessions, StreamCaller
from chat_service.api.stream_slots import StreamSlot, StreamSlots
from chat_service.config import Settings
from chat_service.domain.errors import TooManyStreams
from chat_service.domain.model import Chat

router = APIRouter(tags=["web"])

# Comments on an idle stream this often keep proxies from closing it.
SSE_KEEPALIVE_SECONDS = 15.0
# Without `since` (or Last-Event-ID), a stream starts this far back: a message sent while
# the client was loading history is then in both, and the client keeps it once (by id).
SSE_REPLAY = timedelta(seconds=60)


SettingsDep = Annotated[Settings, Depends(state_dependency("settings", Settings))]
BatchFeedDep = Annotated[BatchFeed, Depends(state_dependency("batch_feed", BatchFeed))]
StreamSlotsDep = Annotated[StreamSlots, Depends(state_dependency("stream_slots", StreamSlots))]
RefusedSessionsDep = Annotated[
    RefusedSessions, Depends(state_dependency("refused_sessions", RefusedSessions))
]


async def stream_chat(chat_id: uuid.UUID, caller: StreamCaller, service: ChatServiceDep) -> Chat:
    """The chat in the path, if the stream's caller is a member (404 otherwise)."""
    return await service.member_chat(chat_id, caller.id)


StreamChat = Annotated[Chat, Depends(stream_chat)]


class RelayResponse(StreamingResponse):
    """An SSE response that gives its stream slot back however the response ends.

    The body's own `finally` does not run when the body was never started, so the slot
    is released here; release is synchronous, so a cancelled scope cannot skip it.
    """

    def __init__(
        self, stream: AsyncGenerator[str, None], slot: StreamSlot, release: Callable[[], None]
    ) -> None:
        super().__init__(
            stream,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )
        self.slot = slot
        self.stream = stream
        self.release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.slot.release()
            self.release()
            # A body left suspended (the client went away mid-send) closes its listener
            # now rather than whenever it is garbage-collected; this awaits nothing real.
            await self.stream.aclose()


def _stream_responses(events: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI answers of a relay stream whose events are `events`."""
    return {
        200: {"content": {"text/event-stream": {}}, "description": f"SSE: {events}"},
        401: {"description": "Missing or invalid access token"},
        429: {"description": "Too many open streams (of this user, or on this server)"},
    }


# A reconnecting EventSource sends the id of the last event it received.
LastEventId = Annotated[str | None, Header()]
Since = Annotated[
    str | None,
    Query(
        description="RFC 3339: a chat's batches whose last_sent_at is at or after it, or "
        "the inbox documents written at or after it; at most SSE_RESUME_MAX_SECONDS back."
    ),
]


@dataclass(frozen=True)
class Relay:
    """What every relay stream needs: who asks, the Firestore feed, where to resume (the
    Last-Event-ID header of a reconnect, else `since`)."""

    caller: Principal
    slots: StreamSlots
    sessions: RefusedSessions
    settings: Settings
    feed: BatchFeed
    last_event_id: str | None
    since: str | None

    def open(
        self, stream: Callable[[datetime, float, asyncio.Event], AsyncGenerator[str, None]]
    ) -> StreamingResponse:
        """The stream from its resume cursor until the caller's token expires or is
        revoked, holding one of the caller's stream slots (429 when none is left)."""
        slot = self.slots.acquire(self.caller.id)
        if slot is None:
            raise TooManyStreams()
        now = datetime.now(UTC)
        start = stream_start(
            parse_since(self.last_event_id) or parse_since(self.since),
            now,
            timedelta(seconds=self.settings.SSE_RESUME_LOOKBACK_SECONDS),
            SSE_REPLAY,
        )
        # A cursor far back would reread every live batch at each reconnect; what is older
        # the client reads from history (`after`), as it does after any gap.
        start = max(start, now - timedelta(seconds=self.settings.SSE_RESUME_MAX_SECONDS))
        loop = asyncio.get_running_loop()
        ends_at = loop.time() + max(0.0, self.caller.expires_at - time.time())
        revoked = self.sessions.watch(self.caller)
        return RelayResponse(
            stream(start, ends_at, revoked),
            slot,
            lambda: self.sessions.unwatch(self.caller, revoked),
        )


def get_relay(
    caller: StreamCaller,
    slots: StreamSlotsDep,
    sessions: RefusedSessionsDep,
    settings: SettingsDep,
    feed: BatchFeedDep,
    last_event_id: LastEventId = None,
    since: Since = None,
) -> Relay:
    return Relay(caller, slots, sessions, settings, feed, last_event_id, since)


RelayDep = Annotated[Relay, Depends(get_relay)]


@router.get(
    "/chat/{chat_id}/events",
    response_class=StreamingResponse,
    responses={
        **_stream_responses("ready, batch…"),
        404: {"description": "No such chat, or not a member"},
    },
)
async def chat_events(chat: StreamChat, relay: RelayDep) -> StreamingResponse:
    """The chat's Firestore batches as Server-Sent Events, each as it is written.

    A resumed stream (`since` or Last-Event-ID) starts a little before its cursor and may
    repeat batches already sent: clients keep each message once, by id.
    """
    return relay.open(
        lambda start, ends_at, revoked: event_stream(
            relay.feed, chat.id, start, SSE_KEEPALIVE_SECONDS, ends_at, revoked
        ),
    )


@router.get(
    "/inbox/events",
    response_class=StreamingResponse,
    responses=_stream_responses("ready, inbox…"),
)
async def inbox_events(relay: RelayDep) -> StreamingResponse:
    """The caller's inbox (`users/{uid}/chats` in Firestore) as Server-Sent Events: an
    `inbox` event with the whole document each time one is created or rewritten (a new
    chat, a message, a read mark). A resumed stream may repeat documents: clients keep the
    newest per `chat_id`."""
    caller = relay.caller.id
    return relay.open(
        lambda start, ends_at, revoked: inbox_stream(
            relay.feed, caller, start, SSE_KEEPALIVE_SECONDS, ends_at, revoked
        ),
    )


@cache
def _page_template() -> str:
    return resources.files("chat_service.api").joinpath("static/app.html").read_text("utf-8")


@router.get("/app", response_class=HTMLResponse, include_in_schema=False)
async def chat_page(settings: SettingsDep) -> HTMLResponse:
    """The single-page web client (plain HTML and JS, no build step)."""
    page = _page_template().replace("__AUTH_URL__", html.escape(settings.PUBLIC_AUTH_URL))
    return HTMLResponse(page, headers={"Cache-Control": "no-cache"})
