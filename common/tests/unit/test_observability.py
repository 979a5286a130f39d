"""The request-context middleware and the operations routes, on a bare FastAPI app."""

import socket
from collections.abc import AsyncIterator, Mapping

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, FastAPI

from chat_common.config import ServiceSettings
from chat_common.logs import request_id_var
from chat_common.observability import (
    ReadinessCheck,
    docs_options,
    instrument,
    request_id_source,
)


async def ok() -> None:
    return None


async def broken() -> None:
    raise ConnectionError("store down")


def make_app(
    checks: Mapping[str, ReadinessCheck],
    settings: ServiceSettings | None = None,
    optional: tuple[str, ...] = (),
) -> FastAPI:
    settings = settings or ServiceSettings()
    app = FastAPI(**docs_options(settings))
    instrument(app, lambda: checks, settings, optional=optional)

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


async def test_generated_request_ids_differ_between_requests(client: httpx.AsyncClient) -> None:
    ids = {(await client.get("/items/1")).headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3


def test_request_id_sources_are_hex_and_never_repeat() -> None:
    first, second = request_id_source(), request_id_source()
    ids = [first() for _ in range(1000)] + [second() for _ in range(1000)]
    assert len(set(ids)) == len(ids)
    assert all(len(value) == 32 and int(value, 16) >= 0 for value in ids)
    # Each source (one per process) draws its own prefix, so two never collide.
    assert ids[0][:16] != ids[1000][:16]


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


@pytest.mark.parametrize(
    ("store", "queue", "serving_status", "state"),
    [
        # The optional dependency down: still serving, and the body says so.
        (ok, broken, 200, "degraded"),
        # A required one down: out of the Service.
        (broken, ok, 503, "not ready"),
    ],
)
async def test_serving_readiness_ignores_only_optional_dependencies(
    store: ReadinessCheck, queue: ReadinessCheck, serving_status: int, state: str
) -> None:
    app = make_app({"store": store, "queue": queue}, optional=("queue",))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        serving = await c.get("/readyz/serving")
        full = await c.get("/readyz")
    assert (serving.status_code, serving.json()["status"]) == (serving_status, state)
    assert "unavailable" in serving.json()["checks"].values()
    assert full.status_code == 503


async def test_docs_can_be_switched_off() -> None:
    app = make_app({"store": ok}, ServiceSettings(API_DOCS_ENABLED=False))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        statuses = [(await c.get(path)).status_code for path in ("/docs", "/openapi.json")]
    assert statuses == [404, 404]


async def test_docs_are_served_by_default(client: httpx.AsyncClient) -> None:
    assert (await client.get("/openapi.json")).status_code == 200


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_metrics_move_to_the_ops_port_when_one_is_set() -> None:
    port = _free_port()
    app = make_app({"store": ok}, ServiceSettings(OPS_PORT=port))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            public = await c.get("/metrics")
        async with httpx.AsyncClient() as ops:
            scraped = await ops.get(f"http://127.0.0.1:{port}/metrics")
    assert public.status_code == 404
    assert scraped.status_code == 200
    assert "http_requests_total" in scraped.text
    # The listener ends with the app.
    with pytest.raises(ConnectionError), socket.create_connection(("127.0.0.1", port), 1):
        pass
