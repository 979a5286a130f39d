"""chat-api's `create_app()`: wiring only (the objects are built in `lifespan`)."""

from fastapi import APIRouter, Depends, FastAPI

from chat_common.service_app import ServiceSpec, create_service_app
from chat_service.api import blocks, chats, messages, reads, reports, web
from chat_service.api.lifespan import lifespan, readiness_checks
from chat_service.api.refused_sessions import refuse_revoked
from chat_service.config import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """The chat API; `settings` defaults to the environment's."""
    # A deleted account's tokens, and those from before a logout-all, are refused by every
    # route that takes one (the stream routes check theirs in `web`).
    api = APIRouter(dependencies=[Depends(refuse_revoked)])
    for resource in (chats, messages, reads, reports, blocks):
        api.include_router(resource.router)
    spec = ServiceSpec(
        name="chat-api",
        description="Chats and their history on Cassandra, every change announced on Kafka.",
        lifespan=lifespan,
        checks=readiness_checks,
        routers=[api, web.router],
        # Kafka down is not a reason to take the API out of the Service: sends are stored
        # and the outbox announces them when it is back. /readyz still reports it (503).
        optional_checks=("kafka",),
    )
    return create_service_app(spec, settings or get_settings())
