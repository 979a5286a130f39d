"""Bodies over the limit get a 413 before (declared) or while (streamed) they are read."""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import BaseModel

from chat_common.body_limit import read_body
from chat_common.config import ServiceSettings
from chat_common.observability import instrument

LIMIT = 1024


class Note(BaseModel):
    text: str


def make_app() -> tuple[FastAPI, list[int]]:
    app = FastAPI()
    instrument(app, dict, ServiceSettings(MAX_REQUEST_BODY_BYTES=LIMIT))
    handled: list[int] = []

    @app.post("/notes")
    async def create(note: Note) -> dict[str, int]:
        handled.append(len(note.text))
        return {"length": len(note.text)}

    @app.post("/small")
    async def small(request: Request) -> dict[str, int]:
        body = await read_body(request, 100)
        handled.append(len(body))
        return {"length": len(body)}

    return app, handled


@pytest.fixture
async def app_and_client() -> AsyncIterator[tuple[list[int], httpx.AsyncClient]]:
    app, handled = make_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield handled, client


async def test_declared_length_over_the_limit_is_413_and_never_handled(
    app_and_client: tuple[list[int], httpx.AsyncClient],
) -> None:
    handled, client = app_and_client
    assert (await client.post("/notes", json={"text": "x" * 500})).status_code == 200
    response = await client.post("/notes", json={"text": "x" * 5000})
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]
    assert "x-request-id" in response.headers
    assert handled == [500]  # only the body under the limit reached the route


async def _chunks(total: int, size: int = 256) -> AsyncIterator[bytes]:
    yield b'{"text": "'
    for _ in range(total // size):
        yield b"x" * size
    yield b'"}'


async def test_streamed_body_without_length_is_cut_off_at_the_limit(
    app_and_client: tuple[list[int], httpx.AsyncClient],
) -> None:
    handled, client = app_and_client
    # A generator body goes out chunked, with no Content-Length to check up front.
    response = await client.post(
        "/notes", content=_chunks(10 * LIMIT), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert handled == []


async def test_a_route_can_read_under_a_tighter_limit(
    app_and_client: tuple[list[int], httpx.AsyncClient],
) -> None:
    handled, client = app_and_client
    assert (await client.post("/small", content=b"y" * 100)).status_code == 200
    declared = await client.post("/small", content=b"y" * 101)
    streamed = await client.post("/small", content=_chunks(512))
    assert (declared.status_code, streamed.status_code) == (413, 413)
    assert handled == [100]
