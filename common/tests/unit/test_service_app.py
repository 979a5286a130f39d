"""The service skeleton on a fake service: lifespan state, probes, errors, routes, docs."""

import gc
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Annotated

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, Depends, FastAPI, Request
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chat_common.config import ServiceSettings
from chat_common.errors import ServiceError
from chat_common.observability import ReadinessCheck
from chat_common.service_app import (
    ServiceSpec,
    create_service_app,
    request_state,
    state_dependency,
    state_of,
)


class Store:
    """Stands in for a client the lifespan builds and closes."""

    def __init__(self) -> None:
        self.up = True
        self.closed = False

    async def ping(self) -> None:
        if not self.up:
            raise ConnectionError("store down")


class StoreDown(Exception):
    """A driver error meaning the store cannot be used."""


class ItemMissing(ServiceError):
    status_code = 404
    detail = "no such item"


class Tag:
    """A middleware that marks responses, to show where spec middleware sits."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (b"x-tag", b"1")]
            await send(message)

        await self.app(scope, receive, tagged)


def spec(api: bool = True) -> ServiceSpec:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.store = Store()
        try:
            yield
        finally:
            app.state.store.closed = True

    def checks(app: FastAPI) -> Mapping[str, ReadinessCheck]:
        return {"store": state_of(app, "store", Store).ping}

    router = APIRouter()

    @router.get("/items/{item_id}")
    async def item(item_id: int, request: Request) -> dict[str, int]:
        if item_id == 0:
            raise ItemMissing()
        if item_id == 1:
            raise StoreDown()
        request_state(request, "store", Store)
        return {"id": item_id}

    @router.get("/store-state")
    async def store_state(
        store: Annotated[Store, Depends(state_dependency("store", Store))],
    ) -> dict[str, bool]:
        return {"up": store.up}

    @router.get("/healthz")
    async def own_liveness() -> dict[str, str]:
        return {"status": "own"}

    return ServiceSpec(
        name="fake-service",
        lifespan=lifespan,
        checks=checks,
        routers=[router],
        unavailable=(StoreDown,),
        unavailable_detail="store unreachable",
        middleware=[Middleware(Tag)],
        api=api,
        summary="A fake",
    )


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            yield client


async def test_lifespan_builds_state_and_closes_it() -> None:
    settings = ServiceSettings()
    app = create_service_app(spec(), settings)
    assert state_of(app, "settings", ServiceSettings) is settings
    async with running(app) as client:
        store = state_of(app, "store", Store)
        assert (await client.get("/items/7")).json() == {"id": 7}
        assert (await client.get("/store-state")).json() == {"up": True}
    assert store.closed


async def test_what_the_lifespan_built_is_out_of_garbage_collection_while_serving() -> None:
    gc.unfreeze()
    app = create_service_app(spec(), ServiceSettings())
    try:
        async with running(app):
            store = state_of(app, "store", Store)
            # Frozen objects are in no generation, so no collection's scan walks them.
            assert gc.get_freeze_count() > 0
            tracked = (o for generation in range(3) for o in gc.get_objects(generation))
            assert not any(o is store for o in tracked)
    finally:
        gc.unfreeze()


async def test_errors_map_to_their_status_and_a_down_store_to_503() -> None:
    async with running(create_service_app(spec(), ServiceSettings())) as client:
        missing = await client.get("/items/0")
        assert (missing.status_code, missing.json()) == (404, {"detail": "no such item"})
        down = await client.get("/items/1")
        assert (down.status_code, down.json()) == (503, {"detail": "store unreachable"})
        assert down.headers["retry-after"] == "1"
        # Spec middleware is inside the skeleton's: error answers pass through it too.
        assert missing.headers["x-tag"] == "1" and "x-request-id" in missing.headers


async def test_probes_report_the_lifespan_clients() -> None:
    app = create_service_app(spec(), ServiceSettings())
    async with running(app) as client:
        assert (await client.get("/readyz")).status_code == 200
        state_of(app, "store", Store).up = False
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"] == {"store": "unavailable"}
        # The service's own /healthz was registered first, so it answers.
        assert (await client.get("/healthz")).json() == {"status": "own"}
        assert (await client.get("/metrics")).status_code == 200


@pytest.mark.parametrize("api", [True, False])
async def test_docs_only_for_a_service_with_an_api(api: bool) -> None:
    async with running(create_service_app(spec(api), ServiceSettings())) as client:
        response = await client.get("/openapi.json")
        assert response.status_code == (200 if api else 404)
        if api:
            assert response.json()["info"]["title"] == "fake-service"
            assert response.json()["info"]["summary"] == "A fake"


def test_state_of_refuses_what_the_lifespan_did_not_set() -> None:
    app = create_service_app(spec(), ServiceSettings())
    with pytest.raises(RuntimeError, match="app.state.store is not a Store"):
        state_of(app, "store", Store)
    app.state.store = "not a store"
    with pytest.raises(RuntimeError, match="app.state.store is not a Store"):
        state_of(app, "store", Store)
