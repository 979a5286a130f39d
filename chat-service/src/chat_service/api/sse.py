"""Server-Sent Events framing, and the body of a relay stream: what a Firestore listener
delivers (realtime.py), as SSE frames, until the access token that opened it expires."""

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


def sse_event(event: str, data: Mapping[str, Any] | None = None) -> str:
    return f"event: {event}\ndata: {json.dumps(dict(data or {}))}\n\n"


async def relay_stream(
    listening: contextlib.AbstractAsyncContextManager[Updates],
    ready_data: Mapping[str, Any],
    keepalive_seconds: float,
    ends_at: float,
    relayed: Counter,
) -> AsyncGenerator[str, None]:
    """An SSE body: `ready` once listening, then each event the listener delivers.

    The stream ends with an `expired` event when the access token that opened it
    expires (`ends_at`, loop time): the client reconnects with a fresh token.
    """
    loop = asyncio.get_running_loop()
    yield "retry: 2000\n\n"
    async with listening as updates:
        ready = False
        while True:
            remaining = ends_at - loop.time()
            if remaining <= 0:
                yield sse_event("expired", {"reason": "access token expired"})
                return
            try:
                events = await asyncio.wait_for(updates.get(), min(keepalive_seconds, remaining))
            except TimeoutError:
                # Comments keep proxies from closing an idle stream.
                yield SSE_KEEPALIVE
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
