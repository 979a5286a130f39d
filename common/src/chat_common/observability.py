"""Request context, per-route HTTP metrics, and the /healthz, /readyz, /metrics routes."""

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chat_common.logs import request_id_var

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "x-request-id"

HTTP_REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests by route template and status.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds", "HTTP request latency by route template.", ["method", "route"]
)

# A readiness check raises (or times out) when its dependency is not usable.
ReadinessCheck = Callable[[], Awaitable[None]]


def _route_template(scope: Scope) -> str:
    # Label by template (/users/{id}), never by raw path, so label cardinality stays bounded.
    # The router records the matched route in the scope while it dispatches.
    return str(getattr(scope.get("route"), "path", "unmatched"))


class RequestContextMiddleware:
    """Pure ASGI middleware: request id in and out, JSON-log context, HTTP metrics.

    Pure ASGI (not BaseHTTPMiddleware) so streaming responses pass through untouched.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        incoming = headers.get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        request_id = incoming if 0 < len(incoming) <= 128 else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        method = scope["method"]
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (REQUEST_ID_HEADER.encode(), request_id.encode("latin-1")),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = _route_template(scope)
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_LATENCY.labels(method, route).observe(time.perf_counter() - started)
            request_id_var.reset(token)


def ops_router(
    checks: Callable[[], Mapping[str, ReadinessCheck]], timeout: float = 2.0
) -> APIRouter:
    """/healthz (no I/O), /readyz (every hard dependency, 503 if any fails), /metrics.

    `checks` is called per request so it can read clients from `app.state`.
    """
    router = APIRouter(tags=["operations"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        named = dict(checks())
        results = await asyncio.gather(
            *(asyncio.wait_for(check(), timeout) for check in named.values()),
            return_exceptions=True,
        )
        report: dict[str, str] = {}
        for name, result in zip(named, results, strict=True):
            if isinstance(result, BaseException):
                logger.warning("readiness check %s failed: %r", name, result)
                report[name] = "unavailable"
            else:
                report[name] = "ok"
        ready = all(value == "ok" for value in report.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": report},
            status_code=200 if ready else 503,
        )

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


def instrument(app: FastAPI, checks: Callable[[], Mapping[str, ReadinessCheck]]) -> None:
    """Add the request-context middleware and the operations routes to `app`."""
    app.add_middleware(RequestContextMiddleware)
    app.include_router(ops_router(checks))
