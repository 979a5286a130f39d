"""Postgres unreachable: 503 (never a 500 or a hang); liveness unaffected."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from support import PASSWORD, bearer, make_settings, running, valid_token

from auth_service.main import create_app

CLOSED_PORT_URL = "postgresql+asyncpg://postgres@127.0.0.1:1/chat_test"
# Long enough for a loaded machine, short of what a hang would take; not a speed check.
HANG_BOUND_SECONDS = 15.0


@pytest.fixture(scope="module")
async def down_client(key_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(key_path, DATABASE_URL=CLOSED_PORT_URL))
    async with running(app) as client:
        yield client


async def test_readyz_is_503_and_healthz_200(down_client: httpx.AsyncClient) -> None:
    # A hang bound, not a speed check: the connect timeout answers within ~3 s.
    ready = await asyncio.wait_for(down_client.get("/readyz"), HANG_BOUND_SECONDS)
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"postgres": "unavailable"}
    assert (await down_client.get("/healthz")).status_code == 200


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/auth/login", {"username": "someone", "password": PASSWORD}),
        ("/auth/register", {"username": "someone", "password": PASSWORD}),
    ],
)
async def test_writes_are_503_quickly(
    down_client: httpx.AsyncClient, path: str, body: dict[str, str]
) -> None:
    response = await asyncio.wait_for(down_client.post(path, json=body), HANG_BOUND_SECONDS)
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert "database" in response.json()["detail"]


async def test_authenticated_read_is_503(down_client: httpx.AsyncClient, key_path: Path) -> None:
    token = valid_token(key_path, "6f1c1f52-7b0e-4a43-9a37-1b0c0f8b1a11", "someone")
    response = await down_client.get("/users/me", headers=bearer(token))
    assert response.status_code == 503


async def test_readyz_ok_when_postgres_is_up(client: httpx.AsyncClient) -> None:
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"postgres": "ok"}}
