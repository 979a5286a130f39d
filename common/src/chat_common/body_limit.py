"""A cap on request bodies, checked before and while they stream in (413 beyond it)."""

import json

from fastapi import HTTPException, Request, status
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOO_LARGE_DETAIL = "request body too large"


class RequestBodyTooLarge(HTTPException):
    """The body (declared or streamed) is over the limit: 413, nothing read further."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            status.HTTP_413_CONTENT_TOO_LARGE, f"{TOO_LARGE_DETAIL} (limit {limit} bytes)"
        )


def declared_length(scope: Scope) -> int | None:
    """The Content-Length header as a number, None when absent or unreadable."""
    for name, value in scope.get("headers") or []:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimitMiddleware:
    """Pure ASGI: refuse a declared Content-Length over `max_bytes` at once, and stop a
    body streamed without one (chunked) as soon as it passes the limit.

    Without it, Starlette reads a whole body into memory before any model sees its size.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = declared_length(scope)
        if length is not None and length > self.max_bytes:
            await _refuse(send, self.max_bytes)
            return
        received = 0
        started = False

        async def capped_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise RequestBodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, capped_receive, tracking_send)
        except RequestBodyTooLarge:
            # Raised where no handler turned it into a response (outside a route).
            if not started:
                await _refuse(send, self.max_bytes)


async def _refuse(send: Send, limit: int) -> None:
    # No `Connection: close`: the server discards the unread body as it arrives (never
    # buffering it), so the client, still sending, reads this answer instead of a reset.
    body = json.dumps({"detail": f"{TOO_LARGE_DETAIL} (limit {limit} bytes)"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status.HTTP_413_CONTENT_TOO_LARGE,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The request body, read only up to `max_bytes` (413 past it), for routes that parse
    a body themselves under a tighter limit than the app's."""
    length = declared_length(request.scope)
    if length is not None and length > max_bytes:
        raise RequestBodyTooLarge(max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise RequestBodyTooLarge(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)
