"""chat-worker's `create_app()`: wiring only (the objects are built in `lifespan`)."""

from fastapi import FastAPI

from chat_common.background import liveness_router
from chat_common.service_app import ServiceSpec, create_service_app
from chat_service.config import Settings, get_settings
from chat_service.worker.lifespan import lifespan, readiness_checks


def create_app(settings: Settings | None = None) -> FastAPI:
    """The worker's ops app (no API); `settings` defaults to the environment's."""
    spec = ServiceSpec(
        name="chat-worker",
        lifespan=lifespan,
        checks=readiness_checks,
        routers=[liveness_router()],
        api=False,
    )
    return create_service_app(spec, settings or get_settings())
