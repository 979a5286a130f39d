"""POST /chat/{id}/read and GET /chats paging, against the real servers (what the inbox
consumer makes of read marks is in test_inbox)."""

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from chat_calls import listed, send
from support import User


async def test_read_marks_refuse_strangers_and_bad_marks(
    client: httpx.AsyncClient,
    make_user: Callable[[], Awaitable[User]],
    pair: tuple[User, User],
    chat: dict[str, Any],
) -> None:
    (alice, bob), eve, chat_id = pair, await make_user(), chat["id"]
    message_id = await send(client, alice, chat_id, "hi")
    stranger = await client.post(
        f"/chat/{chat_id}/read", json={"up_to": message_id}, headers=eve.headers
    )
    assert stranger.status_code == 404
    for body in (
        {"up_to": str(uuid.uuid4())},  # not a time UUID
        {"up_to": str(uuid.uuid1())},  # a time UUID, but no message of this chat
        {"up_to": message_id, "extra": 1},
        {},
    ):
        response = await client.post(f"/chat/{chat_id}/read", json=body, headers=bob.headers)
        assert response.status_code == 422, (body, response.text)
    item = await listed(client, bob, chat_id)
    assert item["read_up_to"] is None


async def test_the_list_pages_by_activity_without_repeats(
    client: httpx.AsyncClient, make_user: Callable[[], Awaitable[User]]
) -> None:
    alice = await make_user()
    chats = []
    for _ in range(5):
        other = await make_user()
        created = await client.post(
            "/chats", json={"user_id": str(other.id)}, headers=alice.headers
        )
        chats.append(created.json()["id"])
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/chats", params=params, headers=alice.headers)).json()
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(chats))  # newest creation first, each once
    for bad in ({"limit": 0}, {"limit": 101}, {"cursor": "not-a-cursor"}):
        response = await client.get("/chats", params=bad, headers=alice.headers)
        assert response.status_code == 422, (bad, response.text)
