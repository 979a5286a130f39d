"""The request-context middleware and the operations routes, on a bare FastAPI app."""

from collections.abc import AsyncIterator, Mapping

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, FastAPI

from chat_common.logs import request_id_var
from chat_common.observability import ReadinessCheck, instrument


async def ok() -> None:
    return None


async def broken() -> None:
    raise ConnectionError("store down")


def make_app(checks: Mapping[str, ReadinessCheck]) -> FastAPI:
    app = FastAPI()
    instrument(app, lambda: checks)

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, str | None]:
        return {"request_id": request_id_var.get()}

    # Routes of an included router are labelled by their template too.
    router = APIRouter(prefix="/users")

    @router.get("/{user_id}")
    async def user(user_id: int) -> dict[str, int]:
        return {"id": user_id}

    app.include_router(router)
    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = make_app({"store": ok})
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            yield c


async def test_request_id_is_generated_and_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/items/1")
    request_id = response.headers["x-request-id"]
    assert len(request_id) == 32
    assert response.json() == {"request_id": request_id}


async def test_incoming_request_id_is_kept(client: httpx.AsyncClient) -> None:
    response = await client.get("/items/1", headers={"x-request-id": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert response.json() == {"request_id": "abc-123"}


async def test_metrics_are_labelled_by_route_template(client: httpx.AsyncClient) -> None:
    await client.get("/items/42")
    await client.get("/items/43")
    await client.get("/users/7")
    await client.get("/nowhere")
    metrics = (await client.get("/metrics")).text
    assert 'route="/items/{item_id}",status="200"' in metrics
    assert 'route="/users/{user_id}",status="200"' in metrics
    assert 'route="unmatched",status="404"' in metrics
    assert 'route="/items/42"' not in metrics


async def test_readyz_ok_when_every_check_passes(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"store": "ok"}}


async def test_readyz_503_names_the_failing_dependency() -> None:
    app = make_app({"store": ok, "queue": broken})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        response = await c.get("/readyz")
        health = await c.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"store": "ok", "queue": "unavailable"}
    assert health.status_code == 200
