"""Server-Sent Events framing, and the body of a relay stream: what a Firestore listener
delivers (realtime.py), as SSE frames, until the access token that opened it expires or
its session is revoked (api/refused_sessions.py)."""

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator, Mapping
from typing import Any, Protocol

from prometheus_client import Counter

SSE_KEEPALIVE = ": keep-alive\n\n"


class RelayEvent(Protocol):
    """A Firestore document as an SSE event."""

    def to_sse(self) -> str: ...


# One item per listener callback; None marks a stream whose client fell too far behind.
Updates = asyncio.Queue[list[RelayEvent] | None]


# What `_next` gives when nothing came in time, or when the stream's session was revoked.
_NOTHING: list[RelayEvent] = []
_REVOKED: list[RelayEvent] = []


async def _next(
    updates: Updates, revoked: asyncio.Event, timeout: float
) -> list[RelayEvent] | None:
    """The next item of `updates`, or `_REVOKED` once `revoked` is set, or `_NOTHING`
    after `timeout` seconds."""
    getting = asyncio.ensure_future(updates.get())
    revoking = asyncio.ensure_future(revoked.wait())
    try:
        done, _ = await asyncio.wait(
            (getting, revoking), timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        revoking.cancel()
        if not getting.done():
            getting.cancel()
    if getting in done:
        return getting.result()
    return _REVOKED if revoking in done else _NOTHING


def sse_event(event: str, data: Mapping[str, Any] | None = None) -> str:
    return f"event: {event}\ndata: {json.dumps(dict(data or {}))}\n\n"


async def relay_stream(
    listening: contextlib.AbstractAsyncContextManager[Updates],
    ready_data: Mapping[str, Any],
    keepalive_seconds: float,
    ends_at: float,
    relayed: Counter,
    revoked: asyncio.Event,
) -> AsyncGenerator[str, None]:
    """An SSE body: `ready` once listening, then each event the listener delivers.

    The stream ends with an `expired` event when the access token that opened it
    expires (`ends_at`, loop time): the client reconnects with a fresh token; and with a
    `revoked` event once `revoked` is set (its user was deleted or logged out
    everywhere): a reconnect with that token gets 401.
    """
    loop = asyncio.get_running_loop()
    yield "retry: 2000\n\n"
    async with listening as updates:
        ready = False
        while True:
            remaining = ends_at - loop.time()
            if revoked.is_set():
                yield sse_event("revoked", {"reason": "the session was revoked"})
                return
            if remaining <= 0:
                yield sse_event("expired", {"reason": "access token expired"})
                return
            events = await _next(updates, revoked, min(keepalive_seconds, remaining))
            if events is _NOTHING:
                # Comments keep proxies from closing an idle stream.
                yield SSE_KEEPALIVE
                continue
            if events is _REVOKED:
                continue
            if events is None:
                # The client reads too slowly; it reconnects with its Last-Event-ID.
                yield sse_event("overflow", {"reason": "client too slow, reconnect"})
                return
            if not ready:
                ready = True
                yield sse_event("ready", ready_data)
            for event in events:
                relayed.inc()
                yield event.to_sse()
