"""PATCH/DELETE /chat/{id}/messages/{message_id} and GET /chat/{id}?after= on real
Cassandra and Kafka."""

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

import httpx
import pytest

from chat_common.contract.events import (
    ChatEvent,
    MessageDeleted,
    MessageEdited,
    parse_chat_event,
)

User = Any


async def _send(client: httpx.AsyncClient, chat_id: str, user: User, text: str) -> dict[str, Any]:
    response = await client.post(
        f"/chat/{chat_id}/messages", json={"text": text}, headers=user.headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _event(kafka_events: Any, message_id: str, kind: str) -> tuple[bytes, ChatEvent]:
    """The first `kind` event of a message on Kafka (bounded wait), parsed by the contract."""

    async def arrived() -> tuple[bytes, ChatEvent]:
        while True:
            for key, raw in kafka_events.events.get(message_id, []):
                if raw.get("type") == kind:
                    return key, parse_chat_event(json.dumps(raw).encode())
            await asyncio.sleep(0.05)

    return await asyncio.wait_for(arrived(), 20)


def _path(chat_id: str, message_id: str) -> str:
    return f"/chat/{chat_id}/messages/{message_id}"


class Sent(NamedTuple):
    chat_id: str
    body: dict[str, Any]
    path: str


@pytest.fixture
async def sent(client: httpx.AsyncClient, pair: tuple[User, User], chat: dict[str, Any]) -> Sent:
    """A message the first of `pair` sent in their chat, and its PATCH/DELETE path."""
    body = await _send(client, chat["id"], pair[0], "first text")
    return Sent(chat["id"], body, _path(chat["id"], body["id"]))


async def _history(client: httpx.AsyncClient, chat_id: str, user: User) -> list[dict[str, Any]]:
    response = await client.get(f"/chat/{chat_id}", params={"quantity": 100}, headers=user.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_edit_sets_text_and_edited_at_in_history_and_kafka(
    client: httpx.AsyncClient, pair: tuple[User, User], sent: Sent, kafka_events: Any
) -> None:
    alice, bob = pair
    assert sent.body["edited_at"] is None and sent.body["deleted"] is False
    response = await client.patch(sent.path, json={"text": " hello "}, headers=alice.headers)
    assert response.status_code == 200, response.text
    edited = response.json()
    assert edited["text"] == "hello" and edited["edited_at"] is not None
    assert edited["id"] == sent.body["id"] and edited["sent_at"] == sent.body["sent_at"]
    assert await _history(client, sent.chat_id, bob) == [edited]
    key, event = await _event(kafka_events, sent.body["id"], "message.edited")
    assert key == sent.chat_id.encode() and isinstance(event, MessageEdited)
    assert event.text == "hello" and set(event.members) == {alice.id, bob.id}


async def test_delete_shows_deleted_without_text_and_edit_after_is_409(
    client: httpx.AsyncClient, pair: tuple[User, User], sent: Sent, kafka_events: Any
) -> None:
    alice, bob = pair
    path = sent.path
    assert (await client.delete(path, headers=alice.headers)).status_code == 204
    (shown,) = await _history(client, sent.chat_id, bob)
    assert shown["deleted"] is True and shown["text"] is None
    assert (await client.patch(path, json={"text": "x"}, headers=alice.headers)).status_code == 409
    # Deleting again is the same state.
    assert (await client.delete(path, headers=alice.headers)).status_code == 204
    assert await _history(client, sent.chat_id, bob) == [shown]

    _key, event = await _event(kafka_events, sent.body["id"], "message.deleted")
    assert isinstance(event, MessageDeleted) and event.sender_id == alice.id


async def test_only_the_sender_changes_a_message(
    client: httpx.AsyncClient, pair: tuple[User, User], sent: Sent
) -> None:
    bob = pair[1]
    answer = await client.patch(sent.path, json={"text": "x"}, headers=bob.headers)
    assert answer.status_code == 403
    assert (await client.delete(sent.path, headers=bob.headers)).status_code == 403
    assert await _history(client, sent.chat_id, bob) == [sent.body]


async def test_unknown_message_or_foreign_chat_is_404_and_bad_text_422(
    client: httpx.AsyncClient,
    pair: tuple[User, User],
    sent: Sent,
    make_user: Callable[[], Awaitable[User]],
) -> None:
    headers = pair[0].headers
    for missing in (str(uuid.uuid1()), str(uuid.uuid4())):
        path = _path(sent.chat_id, missing)
        assert (await client.patch(path, json={"text": "x"}, headers=headers)).status_code == 404
        assert (await client.delete(path, headers=headers)).status_code == 404
    stranger = await make_user()
    assert (await client.delete(sent.path, headers=stranger.headers)).status_code == 404
    for body in ({"text": ""}, {"text": "x" * 4001}, {}, {"text": "x", "more": 1}):
        assert (await client.patch(sent.path, json=body, headers=headers)).status_code == 422
    assert await _history(client, sent.chat_id, pair[0]) == [sent.body]


async def test_racing_edits_and_delete_end_deleted(
    client: httpx.AsyncClient, pair: tuple[User, User], sent: Sent
) -> None:
    alice, path = pair[0], sent.path
    answers = await asyncio.gather(
        *(client.patch(path, json={"text": f"e{i}"}, headers=alice.headers) for i in range(3)),
        client.delete(path, headers=alice.headers),
        *(client.patch(path, json={"text": f"f{i}"}, headers=alice.headers) for i in range(3)),
    )
    assert answers[3].status_code == 204
    assert {a.status_code for a in answers[:3] + answers[4:]} <= {200, 409}
    (shown,) = await _history(client, sent.chat_id, alice)
    assert shown["deleted"] is True and shown["text"] is None


async def test_after_pages_forward_oldest_first(
    client: httpx.AsyncClient, pair: tuple[User, User], chat: dict[str, Any]
) -> None:
    alice, bob = pair
    sent = []
    for i in range(7):
        sent.append(await _send(client, chat["id"], alice if i % 2 else bob, f"m{i}"))
        if i == 3:  # cross a bucket boundary (the tests' buckets are one second)
            await asyncio.sleep(1.1)
    got: list[dict[str, Any]] = []
    after = sent[0]["id"]
    while after is not None:
        response = await client.get(
            f"/chat/{chat['id']}", params={"after": after, "quantity": 2}, headers=alice.headers
        )
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) == {"items", "next_after"}
        got += page["items"]
        after = page["next_after"]
    assert [m["id"] for m in got] == [m["id"] for m in sent[1:]]
    last = await client.get(
        f"/chat/{chat['id']}", params={"after": sent[-1]["id"]}, headers=alice.headers
    )
    assert last.json() == {"items": [], "next_after": None}


async def test_after_from_before_the_chat_reads_everything(
    client: httpx.AsyncClient, pair: tuple[User, User], chat: dict[str, Any]
) -> None:
    alice, _ = pair
    early = uuid.uuid1()
    sent = [await _send(client, chat["id"], alice, f"m{i}") for i in range(3)]
    response = await client.get(
        f"/chat/{chat['id']}", params={"after": str(early)}, headers=alice.headers
    )
    assert response.json() == {"items": sent, "next_after": None}


async def test_after_with_time_or_a_bad_uuid_is_422(
    client: httpx.AsyncClient, pair: tuple[User, User], chat: dict[str, Any]
) -> None:
    alice, _ = pair
    stamp = str(uuid.uuid1())
    for params in (
        {"after": stamp, "time": stamp},
        {"after": str(uuid.uuid4())},
        {"after": "nope"},
        {"after": stamp, "quantity": 0},
    ):
        response = await client.get(f"/chat/{chat['id']}", params=params, headers=alice.headers)
        assert response.status_code == 422, params
