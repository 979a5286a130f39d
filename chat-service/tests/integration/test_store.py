"""Cassandra unreachable: 503 (never a 500 or a hang); then recovery."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from support import User

# Long enough for a loaded machine, short of what a hang would take; not a speed check.
HANG_BOUND_SECONDS = 15.0


@pytest.fixture
async def proxied(
    pair: tuple[User, User],
    app_factory: Callable[..., Any],
    tcp_proxy: Callable[[str, int], Awaitable[Any]],
    settings: Any,
) -> AsyncIterator[tuple[httpx.AsyncClient, Any, str]]:
    """An app that reaches Cassandra through a switchable proxy, and the pair's chat:
    (client, proxy, chat id)."""
    alice, bob = pair
    proxy = await tcp_proxy(settings.cassandra_contact_points[0], settings.CASSANDRA_PORT)
    await proxy.up()
    async with app_factory(CASSANDRA_HOSTS="127.0.0.1", CASSANDRA_PORT=proxy.port) as (_, client):
        created = await client.post("/chats", json={"user_id": str(bob.id)}, headers=alice.headers)
        assert created.status_code == 201, created.text
        yield client, proxy, created.json()["id"]


async def test_cassandra_down_is_503_fast_and_the_service_recovers(
    pair: tuple[User, User], proxied: tuple[httpx.AsyncClient, Any, str]
) -> None:
    alice, _ = pair
    client, proxy, chat_id = proxied
    assert (await client.get(f"/chat/{chat_id}", headers=alice.headers)).status_code == 200

    await proxy.down()
    for call in (
        lambda: client.post(f"/chat/{chat_id}/messages", json={"text": "x"}, headers=alice.headers),
        lambda: client.get(f"/chat/{uuid.uuid4()}", headers=alice.headers),
        lambda: client.get("/chats", headers=alice.headers),
    ):
        # A hang bound, not a speed check: the request timeout answers within ~1.5 s.
        response = await asyncio.wait_for(call(), HANG_BOUND_SECONDS)
        assert response.status_code == 503, response.text
    assert (await client.get("/readyz")).json()["checks"]["cassandra"] == "unavailable"

    await proxy.up()
    deadline = time.monotonic() + 30
    while True:
        response = await client.post(
            f"/chat/{chat_id}/messages", json={"text": "back"}, headers=alice.headers
        )
        if response.status_code == 201 or time.monotonic() > deadline:
            break
        assert response.status_code == 503
        await asyncio.sleep(0.5)
    assert response.status_code == 201, "the service did not recover after Cassandra came back"


async def test_service_started_while_cassandra_is_unreachable_answers_503(
    pair: tuple[User, User], app_factory: Callable[..., Any]
) -> None:
    alice, _ = pair
    async with app_factory(CASSANDRA_PORT=9) as (_, client):
        for _attempt in range(3):
            response = await asyncio.wait_for(
                client.get("/chats", headers=alice.headers), HANG_BOUND_SECONDS
            )
            assert response.status_code == 503
            assert response.headers["retry-after"] == "1"
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).status_code == 503


async def test_a_cassandra_that_hangs_is_503_within_the_request_timeout(
    pair: tuple[User, User], proxied: tuple[httpx.AsyncClient, Any, str]
) -> None:
    alice, _ = pair
    client, proxy, chat_id = proxied
    # Connections stay open and nothing answers: only the per-request bound ends it.
    proxy.stall()
    for call in (
        lambda: client.post(f"/chat/{chat_id}/messages", json={"text": "x"}, headers=alice.headers),
        lambda: client.get(f"/chat/{chat_id}", headers=alice.headers),
    ):
        response = await asyncio.wait_for(call(), HANG_BOUND_SECONDS)
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "1"

    # The answers held back arrive late and are dropped; new requests are served.
    proxy.resume()
    sent = await client.post(
        f"/chat/{chat_id}/messages", json={"text": "back"}, headers=alice.headers
    )
    assert sent.status_code == 201, sent.text
    history = await client.get(f"/chat/{chat_id}", headers=alice.headers)
    assert sent.json()["id"] in [m["id"] for m in history.json()["items"]]
