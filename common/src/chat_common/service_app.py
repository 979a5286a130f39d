"""The one service skeleton: app factory, lifespan, typed state, probes, error handlers.

A service declares a `ServiceSpec` (its name, its lifespan that builds and closes its
clients, its readiness checks, routers and store errors) and `create_service_app` wires it
the same way for every service: JSON logging, the settings on `app.state`, the routers,
the error handler, the body limit, request ids, /healthz, /readyz and /metrics.
"""

from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import APIRouter, FastAPI, Request
from starlette.middleware import Middleware

from chat_common.config import ServiceSettings
from chat_common.errors import DependencyUnavailable, install_error_handler
from chat_common.heap import freeze_startup_heap
from chat_common.logs import configure_logging
from chat_common.observability import ReadinessCheck, docs_options, instrument

T = TypeVar("T")

NO_DOCS: Mapping[str, Any] = {"docs_url": None, "redoc_url": None, "openapi_url": None}


@dataclass(frozen=True)
class ServiceSpec:
    """What makes one service different from another; everything else is the skeleton."""

    name: str
    # Builds the service's clients onto `app.state`, yields, closes them in reverse.
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]]
    # Named readiness checks, read per request (they use clients the lifespan built).
    checks: Callable[[FastAPI], Mapping[str, ReadinessCheck]]
    routers: Sequence[APIRouter] = ()
    # Store driver errors that mean "down": answered 503 with `unavailable_detail`.
    unavailable: tuple[type[Exception], ...] = ()
    unavailable_detail: str = DependencyUnavailable.detail
    # Checks the service keeps serving without (reported, not routed by).
    optional_checks: Collection[str] = ()
    # Middleware inside the skeleton's own (body limit, request ids), outermost last.
    middleware: Sequence[Middleware] = ()
    # False for a service without an API: no /docs, /redoc or /openapi.json.
    api: bool = True
    # The OpenAPI document's info besides the title (FastAPI's defaults otherwise).
    summary: str | None = None
    description: str = ""
    version: str = "0.1.0"


def create_service_app(spec: ServiceSpec, settings: ServiceSettings) -> FastAPI:
    """The service's FastAPI application, wired the one way every service is."""
    configure_logging(spec.name, settings.LOG_LEVEL)
    docs = docs_options(settings) if spec.api else NO_DOCS

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with spec.lifespan(app):
            freeze_startup_heap()  # what the service built to serve, out of every GC pass
            yield

    app = FastAPI(
        title=spec.name,
        summary=spec.summary,
        description=spec.description,
        version=spec.version,
        lifespan=lifespan,
        **docs,
    )
    app.state.settings = settings
    # Before the ops routes, so a service's own route of the same path answers instead.
    for router in spec.routers:
        app.include_router(router)
    install_error_handler(app, spec.unavailable, spec.unavailable_detail)
    for middleware in spec.middleware:
        app.add_middleware(middleware.cls, *middleware.args, **middleware.kwargs)
    instrument(app, lambda: spec.checks(app), settings, spec.optional_checks)
    return app


def state_of(app: FastAPI, name: str, kind: type[T]) -> T:
    """`app.state.<name>`, checked to be a `kind`: typed access to what the lifespan built.

    A missing or mistyped entry is a wiring bug, so it fails loudly rather than as an
    AttributeError deep in a request.
    """
    value = getattr(app.state, name, None)
    if not isinstance(value, kind):
        raise RuntimeError(f"app.state.{name} is not a {kind.__name__}: set it in the lifespan")
    return value


def request_state(request: Request, name: str, kind: type[T]) -> T:
    """`state_of` for a request's application (the body of every `get_*` dependency)."""
    app: FastAPI = request.app
    return state_of(app, name, kind)


def state_dependency(name: str, kind: type[T]) -> Callable[[Request], Awaitable[T]]:
    """A FastAPI dependency giving `app.state.<name>` as a `kind`, for an alias like
    `ChatServiceDep = Annotated[ChatService, Depends(state_dependency("chat_service",
    ChatService))]`, instead of one hand-written `get_*` function per client."""

    # async: FastAPI runs a plain `def` dependency in its threadpool, a thread hop per request.
    async def dependency(request: Request) -> T:
        return request_state(request, name, kind)

    dependency.__name__ = f"get_{name}"
    return dependency
