"""POST /chats and GET /chats against real Cassandra and the real auth service."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from support import StartChat, User


async def test_first_call_creates_then_same_chat_whoever_asks(
    client: httpx.AsyncClient, pair: tuple[User, User]
) -> None:
    alice, bob = pair
    first = await client.post("/chats", json={"user_id": str(bob.id)}, headers=alice.headers)
    assert first.status_code == 201, first.text
    body = first.json()
    assert sorted(body["members"]) == sorted([str(alice.id), str(bob.id)])
    assert body["created_at"].endswith("Z")
    again = await client.post("/chats", json={"user_id": str(bob.id)}, headers=alice.headers)
    reverse = await client.post("/chats", json={"user_id": str(alice.id)}, headers=bob.headers)
    assert (again.status_code, reverse.status_code) == (200, 200)
    assert again.json() == body and reverse.json() == body


async def test_concurrent_creation_by_both_users_gives_one_chat(
    client: httpx.AsyncClient, make_user: Callable[[], Awaitable[User]]
) -> None:
    for _ in range(3):
        alice, bob = await make_user(), await make_user()
        responses = await asyncio.gather(
            client.post("/chats", json={"user_id": str(bob.id)}, headers=alice.headers),
            client.post("/chats", json={"user_id": str(alice.id)}, headers=bob.headers),
        )
        assert sorted(r.status_code for r in responses) == [200, 201]
        assert responses[0].json() == responses[1].json()
        for user in (alice, bob):
            listed = await client.get("/chats", headers=user.headers)
            assert [c["id"] for c in listed.json()["items"]] == [responses[0].json()["id"]]


async def test_unknown_user_is_404_via_the_auth_service(
    client: httpx.AsyncClient, pair: tuple[User, User]
) -> None:
    alice, _ = pair
    response = await client.post(
        "/chats", json={"user_id": str(uuid.uuid4())}, headers=alice.headers
    )
    assert response.status_code == 404
    assert (await client.get("/chats", headers=alice.headers)).json() == {
        "items": [],
        "next_cursor": None,
    }


async def test_chat_with_oneself_or_invalid_body_is_422(
    client: httpx.AsyncClient, pair: tuple[User, User]
) -> None:
    alice, _ = pair
    for body in ({"user_id": str(alice.id)}, {"user_id": "nope"}, {}, {"user_id": None}):
        response = await client.post("/chats", json=body, headers=alice.headers)
        assert response.status_code == 422, (body, response.text)


async def test_missing_or_bad_token_is_401(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-jwt"}):
        for response in (
            await client.get("/chats", headers=headers),
            await client.post("/chats", json={"user_id": str(uuid.uuid4())}, headers=headers),
        ):
            assert response.status_code == 401
            assert response.headers["www-authenticate"].startswith("Bearer")


async def test_auth_service_down_is_503(
    app_factory: Callable[..., Any], pair: tuple[User, User]
) -> None:
    alice, bob = pair
    async with app_factory(AUTH_SERVICE_URL="http://127.0.0.1:9") as (_, client):
        response = await client.post("/chats", json={"user_id": str(bob.id)}, headers=alice.headers)
    assert response.status_code == 503


async def wait_for_listing(
    client: httpx.AsyncClient,
    user: User,
    ready: Callable[[list[dict[str, Any]]], bool],
    timeout: float = 10.0,
) -> list[dict[str, Any]]:
    """GET /chats until `ready` holds for its items (bounded); the items."""
    async with asyncio.timeout(timeout):
        while True:
            items: list[dict[str, Any]] = (await client.get("/chats", headers=user.headers)).json()[
                "items"
            ]
            if ready(items):
                return items
            await asyncio.sleep(0.05)


async def test_chats_are_listed_by_most_recent_activity(
    client: httpx.AsyncClient,
    make_user: Callable[[], Awaitable[User]],
    start_chat: StartChat,
) -> None:
    me, a, b, c = [await make_user() for _ in range(4)]
    chat_a = await start_chat(me, a)
    chat_b = await start_chat(me, b)
    chat_c = await start_chat(c, me)
    listed = (await client.get("/chats", headers=me.headers)).json()["items"]
    assert [x["id"] for x in listed] == [chat_c["id"], chat_b["id"], chat_a["id"]]
    assert all(x["last_message_at"] is None for x in listed)
    sent = await client.post(
        f"/chat/{chat_a['id']}/messages", json={"text": "hello"}, headers=a.headers
    )
    assert sent.status_code == 201
    # The outbox relay moves inbox activity once Kafka acknowledged the message.
    listed = await wait_for_listing(client, me, lambda items: items[0]["id"] == chat_a["id"])
    assert [x["id"] for x in listed] == [chat_a["id"], chat_c["id"], chat_b["id"]]
    assert listed[0]["last_message_at"] == sent.json()["sent_at"]
    assert sorted(listed[0]["members"]) == sorted([str(me.id), str(a.id)])


async def test_starting_chats_too_fast_is_429_with_retry_after(
    app_factory: Callable[..., Any], make_user: Callable[[], Awaitable[User]]
) -> None:
    alice, bob, carol = await make_user(), await make_user(), await make_user()
    settings = {"CHAT_START_BURST": 2, "CHAT_START_RATE_PER_SECOND": 0.01}
    async with app_factory(**settings) as (_, client):
        for other in (bob, carol):
            started = await client.post(
                "/chats", json={"user_id": str(other.id)}, headers=alice.headers
            )
            assert started.status_code == 201, started.text
        refused = await client.post("/chats", json={"user_id": str(bob.id)}, headers=alice.headers)
        assert refused.status_code == 429, refused.text
        assert int(refused.headers["Retry-After"]) >= 1
        # Per user: another caller is not held back.
        other = await client.post("/chats", json={"user_id": str(alice.id)}, headers=bob.headers)
        assert other.status_code == 200, other.text
