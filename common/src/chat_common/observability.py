"""Request context, per-route HTTP metrics, and the /healthz, /readyz, /metrics routes."""

import asyncio
import contextlib
import itertools
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    Counter,
    Histogram,
    generate_latest,
    start_http_server,
)
from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chat_common.body_limit import BodyLimitMiddleware
from chat_common.config import ServiceSettings
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


class Readiness(BaseModel):
    """The body of /readyz and /readyz/serving."""

    status: Literal["ready", "degraded", "not ready"]
    checks: dict[str, Literal["ok", "unavailable"]]


# A readiness check raises (or times out) when its dependency is not usable.
ReadinessCheck = Callable[[], Awaitable[None]]


def _route_template(scope: Scope) -> str:
    # Label by template (/users/{id}), never by raw path, so label cardinality stays bounded.
    # The router records the matched route in the scope while it dispatches.
    return str(getattr(scope.get("route"), "path", "unmatched"))


def request_id_source() -> Callable[[], str]:
    """Fresh request ids: 32 hex digits, a random prefix per source and then a counter.

    An id needs uniqueness, not secrecy: uuid4 read os.urandom on every request, a
    system call that also hands the GIL over (about 5 % of a send's CPU in a profile).
    """
    prefix = os.urandom(8).hex()
    counter = itertools.count()
    return lambda: f"{prefix}{next(counter):016x}"


class RequestContextMiddleware:
    """Pure ASGI middleware: request id in and out, JSON-log context, HTTP metrics.

    Pure ASGI (not BaseHTTPMiddleware) so streaming responses pass through untouched.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._new_request_id = request_id_source()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        incoming = headers.get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        request_id = incoming if 0 < len(incoming) <= 128 else self._new_request_id()
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
    checks: Callable[[], Mapping[str, ReadinessCheck]],
    timeout: float = 2.0,
    optional: Collection[str] = (),
    metrics: bool = True,
) -> APIRouter:
    """/healthz (no I/O), /readyz, /readyz/serving and (when `metrics`) /metrics.

    `/readyz` is the honest view: 503 when any dependency is down, naming it. Checks named
    in `optional` are dependencies the service keeps serving without (chat-service's Kafka:
    the outbox holds announcements until it is back), so `/readyz/serving`, the one
    Kubernetes routes traffic by, ignores them while its body still reports them.
    `checks` is called per request so it can read clients from `app.state`.
    """
    router = APIRouter(tags=["operations"])
    not_ready: dict[int | str, dict[str, Any]] = {
        503: {"model": Readiness, "description": "A dependency is unavailable"}
    }

    @router.get("/healthz", summary="Liveness")
    async def healthz() -> dict[str, str]:
        """The process answers (no dependency is asked)."""
        return {"status": "ok"}

    async def report() -> dict[str, str]:
        named = dict(checks())
        results = await asyncio.gather(
            *(asyncio.wait_for(check(), timeout) for check in named.values()),
            return_exceptions=True,
        )
        states: dict[str, str] = {}
        for name, result in zip(named, results, strict=True):
            if isinstance(result, BaseException):
                logger.warning("readiness check %s failed: %r", name, result)
                states[name] = "unavailable"
            else:
                states[name] = "ok"
        return states

    def answer(states: dict[str, str], required: Collection[str]) -> JSONResponse:
        ready = all(states[name] == "ok" for name in required)
        degraded = ready and any(value != "ok" for value in states.values())
        status = "degraded" if degraded else "ready" if ready else "not ready"
        return JSONResponse({"status": status, "checks": states}, status_code=200 if ready else 503)

    @router.get("/readyz", summary="Readiness", response_model=Readiness, responses=not_ready)
    async def readyz() -> JSONResponse:
        """Every dependency's state; 503 when any is unavailable."""
        states = await report()
        return answer(states, states)

    @router.get(
        "/readyz/serving",
        summary="Readiness to serve",
        response_model=Readiness,
        responses=not_ready,
    )
    async def readyz_serving() -> JSONResponse:
        """Like /readyz, but 503 only when a dependency every request needs is unavailable."""
        states = await report()
        return answer(states, [name for name in states if name not in optional])

    if metrics:

        @router.get("/metrics", include_in_schema=False)
        async def metrics_route() -> Response:
            return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


def docs_options(settings: ServiceSettings) -> dict[str, Any]:
    """FastAPI(...) keyword arguments that switch the API docs off unless enabled."""
    if settings.API_DOCS_ENABLED:
        return {}
    return {"docs_url": None, "redoc_url": None, "openapi_url": None}


def _serve_metrics_on_ops_port(app: FastAPI, settings: ServiceSettings) -> None:
    """Run Prometheus's own listener on OPS_PORT for the app's lifetime."""
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[Any]:
        server, thread = start_http_server(settings.OPS_PORT, settings.OPS_HOST)
        try:
            async with inner(app) as state:
                yield state
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)

    app.router.lifespan_context = lifespan


def instrument(
    app: FastAPI,
    checks: Callable[[], Mapping[str, ReadinessCheck]],
    settings: ServiceSettings,
    optional: Collection[str] = (),
) -> None:
    """Add the body limit, the request-context middleware and the operations routes.

    /metrics goes to the app's port only when OPS_PORT is 0; otherwise it is served on
    OPS_PORT alone, which the public Service does not route to.
    """
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.MAX_REQUEST_BODY_BYTES)
    # Added last, so outermost: a 413 is counted and carries a request id too.
    app.add_middleware(RequestContextMiddleware)
    on_app_port = settings.OPS_PORT == 0
    app.include_router(ops_router(checks, optional=optional, metrics=on_app_port))
    if not on_app_port:
        _serve_metrics_on_ops_port(app, settings)
