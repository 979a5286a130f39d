"""POST /chat/{id}/messages and GET /chat/{id} against real Cassandra."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
from cassandra.util import uuid_from_time
from support import User

from chat_common.contract.times import is_time_uuid, rfc3339_millis, uuid_time


async def _send(client: httpx.AsyncClient, chat_id: str, user: User, **body: Any) -> httpx.Response:
    return await client.post(f"/chat/{chat_id}/messages", json=body, headers=user.headers)


async def _all_history(client: httpx.AsyncClient, chat_id: str, user: User) -> list[dict[str, Any]]:
    response = await client.get(f"/chat/{chat_id}", params={"quantity": 100}, headers=user.headers)
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_send_returns_the_stored_message(
    client: httpx.AsyncClient, pair: tuple[User, User], chat: dict[str, Any]
) -> None:
    alice, _ = pair
    response = await _send(client, chat["id"], alice, text="  hello bob  ")
    assert response.status_code == 201, response.text
    message = response.json()
    message_id = uuid.UUID(message["id"])
    assert is_time_uuid(message_id)
    assert message["chat_id"] == chat["id"]
    assert message["sender_id"] == str(alice.id)
    assert message["text"] == "hello bob"
    assert message["sent_at"] == rfc3339_millis(uuid_time(message_id))
    assert await _all_history(client, chat["id"], alice) == [message]


@pytest.mark.parametrize("text", ["", "   ", "x" * 4001])
async def test_empty_or_too_long_text_is_422_and_not_stored(
    client: httpx.AsyncClient, pair: tuple[User, User], chat: dict[str, Any], text: str
) -> None:
    alice, _ = pair
    assert (await _send(client, chat["id"], alice, text=text)).status_code == 422
    assert await _all_history(client, chat["id"], alice) == []


async def test_4000_characters_is_accepted(
    client: httpx.AsyncClient, pair: tuple[User, User], chat: dict[str, Any]
) -> None:
    response = await _send(client, chat["id"], pair[0], text="é" * 4000)
    assert response.status_code == 201
    assert response.json()["text"] == "é" * 4000


async def test_non_members_and_unknown_chats_get_404_and_nothing_is_written(
    client: httpx.AsyncClient,
    pair: tuple[User, User],
    chat: dict[str, Any],
    make_user: Callable[[], Awaitable[User]],
) -> None:
    alice, _ = pair
    stranger = await make_user()
    assert (await _send(client, chat["id"], stranger, text="hi")).status_code == 404
    assert (await client.get(f"/chat/{chat['id']}", headers=stranger.headers)).status_code == 404
    unknown = str(uuid.uuid4())
    assert (await _send(client, unknown, alice, text="hi")).status_code == 404
    assert (await client.get(f"/chat/{unknown}", headers=alice.headers)).status_code == 404
    assert await _all_history(client, chat["id"], alice) == []
    assert (await client.get("/chats", headers=stranger.headers)).json() == {
        "items": [],
        "next_cursor": None,
    }


async def test_messages_need_a_token(client: httpx.AsyncClient, chat: dict[str, Any]) -> None:
    assert (
        await client.post(f"/chat/{chat['id']}/messages", json={"text": "x"})
    ).status_code == 401
    assert (await client.get(f"/chat/{chat['id']}")).status_code == 401


async def test_repeated_client_message_id_returns_the_first_message(
    client: httpx.AsyncClient, pair: tuple[User, User], chat: dict[str, Any]
) -> None:
    alice, bob = pair
    first = await _send(client, chat["id"], alice, text="once", client_message_id="c-1")
    retry = await _send(client, chat["id"], alice, text="once", client_message_id="c-1")
    assert first.status_code == 201 and retry.status_code == 201
    assert retry.json() == first.json()
    # The same client id from the other sender is a different message.
    other = await _send(client, chat["id"], bob, text="mine", client_message_id="c-1")
    assert other.json()["id"] != first.json()["id"]
    history = await _all_history(client, chat["id"], alice)
    assert [m["id"] for m in history] == [other.json()["id"], first.json()["id"]]


async def test_concurrent_retries_store_one_message(
    client: httpx.AsyncClient, pair: tuple[User, User], chat: dict[str, Any]
) -> None:
    alice, _ = pair
    responses = await asyncio.gather(
        *(_send(client, chat["id"], alice, text="x", client_message_id="burst") for _ in range(8))
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(await _all_history(client, chat["id"], alice)) == 1


async def _send_spread(
    client: httpx.AsyncClient, chat_id: str, users: tuple[User, User], count: int, seconds: float
) -> list[dict[str, Any]]:
    sent = []
    for i in range(count):
        response = await _send(client, chat_id, users[i % 2], text=f"m{i}")
        assert response.status_code == 201
        sent.append(response.json())
        await asyncio.sleep(seconds / count)
    return sent


async def test_pages_walk_back_across_buckets(
    client: httpx.AsyncClient, pair: tuple[User, User], chat: dict[str, Any]
) -> None:
    alice, _ = pair
    # ~3.5 s of messages with 1 s buckets: pages straddle bucket boundaries.
    sent = await _send_spread(client, chat["id"], pair, 23, 3.5)
    newest_first = list(reversed(sent))
    for quantity in (1, 4, 10):
        pages, time = [], None
        while True:
            params: dict[str, Any] = {"quantity": quantity}
            if time is not None:
                params["time"] = time
            response = await client.get(f"/chat/{chat['id']}", params=params, headers=alice.headers)
            assert response.status_code == 200
            page = response.json()
            pages.append(page["items"])
            time = page["next_time"]
            if time is None:
                break
            assert time == page["items"][-1]["id"]
        assert [m for p in pages for m in p] == newest_first
        assert all(len(p) == quantity for p in pages[:-1])
        assert 1 <= len(pages[-1]) <= quantity


async def test_exactly_quantity_left_gives_null_next_time(
    client: httpx.AsyncClient, pair: tuple[User, User], chat: dict[str, Any]
) -> None:
    alice, _ = pair
    sent = await _send_spread(client, chat["id"], pair, 6, 1.5)
    first = (await client.get(f"/chat/{chat['id']}?quantity=3", headers=alice.headers)).json()
    assert [m["id"] for m in first["items"]] == [m["id"] for m in reversed(sent[3:])]
    assert first["next_time"] == sent[3]["id"]
    second = (
        await client.get(
            f"/chat/{chat['id']}",
            params={"quantity": 3, "time": first["next_time"]},
            headers=alice.headers,
        )
    ).json()
    assert [m["id"] for m in second["items"]] == [m["id"] for m in reversed(sent[:3])]
    assert second["next_time"] is None


async def test_time_is_exclusive_and_can_be_any_time_uuid(
    client: httpx.AsyncClient, pair: tuple[User, User], chat: dict[str, Any]
) -> None:
    alice, _ = pair
    sent = await _send_spread(client, chat["id"], pair, 3, 0.3)
    page = (
        await client.get(
            f"/chat/{chat['id']}", params={"time": sent[1]["id"]}, headers=alice.headers
        )
    ).json()
    assert [m["id"] for m in page["items"]] == [sent[0]["id"]]
    assert page["next_time"] is None
    # A time UUID of a later instant than any message: everything.
    future = str(uuid_from_time(datetime(2100, 1, 1)))
    page = (
        await client.get(f"/chat/{chat['id']}", params={"time": future}, headers=alice.headers)
    ).json()
    assert len(page["items"]) == 3
    # Before the first message: nothing.
    past = str(uuid_from_time(datetime(2000, 1, 1)))
    page = (
        await client.get(f"/chat/{chat['id']}", params={"time": past}, headers=alice.headers)
    ).json()
    assert page == {"items": [], "next_time": None}


async def test_default_quantity_is_10_and_bad_parameters_are_422(
    client: httpx.AsyncClient, pair: tuple[User, User], chat: dict[str, Any]
) -> None:
    alice, _ = pair
    await _send_spread(client, chat["id"], pair, 12, 0.2)
    page = (await client.get(f"/chat/{chat['id']}", headers=alice.headers)).json()
    assert len(page["items"]) == 10 and page["next_time"] is not None
    for params in (
        {"quantity": 0},
        {"quantity": 101},
        {"quantity": "many"},
        {"time": "not-a-uuid"},
        {"time": str(uuid.uuid4())},
    ):
        response = await client.get(f"/chat/{chat['id']}", params=params, headers=alice.headers)
        assert response.status_code == 422, params
    assert (
        await client.get(f"/chat/{chat['id']}", params={"quantity": 100}, headers=alice.headers)
    ).status_code == 200


async def test_changes_over_the_rate_get_429_before_the_member_check_and_store_nothing(
    app_factory: Callable[..., Any], make_user: Callable[[], Awaitable[User]]
) -> None:
    # A burst of 2, then one change per 100 s.
    async with app_factory(SEND_RATE_PER_SECOND=0.01, SEND_RATE_BURST=2) as (_, client):
        alice, bob, stranger = await make_user(), await make_user(), await make_user()
        opened = await client.post("/chats", json={"user_id": str(bob.id)}, headers=alice.headers)
        chat_id = opened.json()["id"]
        sent = [await _send(client, chat_id, alice, text=f"m{n}") for n in range(3)]
        assert [r.status_code for r in sent] == [201, 201, 429]
        assert int(sent[2].headers["retry-after"]) >= 1
        # Edits and deletes draw on the same rate.
        first = sent[0].json()["id"]
        edit = await client.patch(
            f"/chat/{chat_id}/messages/{first}", json={"text": "x"}, headers=alice.headers
        )
        assert edit.status_code == 429
        deleted = await client.delete(f"/chat/{chat_id}/messages/{first}", headers=alice.headers)
        assert deleted.status_code == 429
        # The rate is taken before the chat is looked up: once over it, even a stranger's
        # send is refused with 429, not 404, and costs no store query.
        tries = [await _send(client, chat_id, stranger, text="hi") for _ in range(3)]
        assert [r.status_code for r in tries] == [404, 404, 429]
        history = await _all_history(client, chat_id, alice)
        assert [(m["text"], m["edited_at"], m["deleted"]) for m in history] == [
            ("m1", None, False),
            ("m0", None, False),
        ]
