"""Two people talk through every real service: accounts, chat, history, realtime."""

import asyncio
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

User = Any


def time_key(message_id: str) -> tuple[int, str]:
    return uuid.UUID(message_id).time, message_id


async def test_two_people_chat_and_every_message_arrives_once_everywhere(
    http: httpx.AsyncClient,
    urls: Any,
    make_user: Callable[[str], Awaitable[User]],
    listen_batches: Callable[[str], Any],
    open_sse: Callable[..., Awaitable[Any]],
) -> None:
    alice, bob = await make_user("e2ea"), await make_user("e2eb")

    # They find each other by username prefix.
    found = await http.get(
        f"{urls.auth}/users", params={"q": bob.username[:9]}, headers=alice.headers
    )
    assert found.status_code == 200
    assert bob.id in [user["id"] for user in found.json()["items"]]
    again = await http.get(f"{urls.auth}/users", params={"q": alice.username}, headers=bob.headers)
    assert [user["id"] for user in again.json()["items"]] == [alice.id]

    # Either of them starting the chat gets the same chat.
    started = await http.post(f"{urls.chat}/chats", json={"user_id": bob.id}, headers=alice.headers)
    assert started.status_code == 201, started.text
    chat_id = started.json()["id"]
    reverse = await http.post(f"{urls.chat}/chats", json={"user_id": alice.id}, headers=bob.headers)
    assert (reverse.status_code, reverse.json()["id"]) == (200, chat_id)

    # Realtime listeners first: a Firestore query listener, and the SSE relay as Bob.
    firestore_batches = await asyncio.to_thread(listen_batches, chat_id)
    sse = await open_sse(chat_id, bob)

    # A conversation in bursts, both ways (bursts are what the aggregator batches).
    script = [(alice, f"alice {i}") for i in range(6)] + [(bob, f"bob {i}") for i in range(4)]
    script += [(alice, f"alice again {i}") for i in range(3)]
    sent: list[dict[str, Any]] = []
    for sender, text in script:
        response = await http.post(
            f"{urls.chat}/chat/{chat_id}/messages", json={"text": text}, headers=sender.headers
        )
        assert response.status_code == 201, response.text
        sent.append(response.json())
    ids = [message["id"] for message in sent]

    # History, page by page (as Bob), holds exactly what was sent, newest first.
    pages: list[list[str]] = []
    time_param: str | None = None
    while True:
        params: dict[str, str | int] = {"quantity": 4}
        if time_param:
            params["time"] = time_param
        page = await http.get(f"{urls.chat}/chat/{chat_id}", params=params, headers=bob.headers)
        assert page.status_code == 200, page.text
        body = page.json()
        pages.append([item["id"] for item in body["items"]])
        time_param = body["next_time"]
        if time_param is None:
            break
        assert len(pages) < 10, "history never reached the start of the chat"
    assert [len(p) for p in pages[:4]] == [4, 4, 4, 1]
    assert [i for p in pages for i in p] == list(reversed(ids))

    # Every message reaches the Firestore listener exactly once, in fewer documents.
    await asyncio.to_thread(firestore_batches.wait_for, set(ids))
    delivered = Counter(firestore_batches.message_ids())
    assert set(delivered) == set(ids) and set(delivered.values()) == {1}
    documents = firestore_batches.received
    assert len(documents) < len(ids), "no aggregation: one document per message"
    for document in documents:
        assert document["chat_id"] == chat_id
        assert document["count"] == len(document["messages"])
        assert document["sender_id"] in (alice.id, bob.id)
        by_time = sorted(document["messages"], key=lambda m: time_key(m["id"]))
        assert document["messages"] == by_time
    texts = {m["id"]: m["text"] for d in documents for m in d["messages"]}
    assert texts == {message["id"]: message["text"] for message in sent}

    # And exactly once through the SSE relay, with the same batches.
    await sse.wait_for(set(ids))
    relayed = Counter(sse.message_ids())
    assert set(relayed) == set(ids) and set(relayed.values()) == {1}
    assert sorted(b["id"] for b in sse.batches()) == sorted(d["id"] for d in documents)


async def test_relay_refuses_strangers_and_bad_tokens(
    http: httpx.AsyncClient,
    urls: Any,
    make_user: Callable[[str], Awaitable[User]],
    open_sse: Callable[..., Awaitable[Any]],
) -> None:
    alice, bob, eve = await make_user("e2ea"), await make_user("e2eb"), await make_user("e2ee")
    started = await http.post(f"{urls.chat}/chats", json={"user_id": bob.id}, headers=alice.headers)
    chat_id = started.json()["id"]
    stranger = await open_sse(chat_id, eve)
    assert stranger.status == 404
    eve.access_token = "not-a-token"
    forged = await open_sse(chat_id, eve)
    assert forged.status == 401
