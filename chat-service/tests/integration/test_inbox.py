"""Read marks, GET /chats counts, and the Firestore inbox and receipts, on the real servers.

An app with the inbox consumer runs against real Cassandra, Kafka and the Firestore
emulator; a member's Firestore listeners see the inbox and receipt documents follow.
"""

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from chat_common.contract.documents import (
    BatchDocument,
    InboxDocument,
    ReceiptDocument,
    chat_batches,
    inbox_path,
    receipt_path,
)
from chat_common.contract.firestore import firestore_client
from chat_service.config import Settings

User = Any
WAIT_SECONDS = 45.0  # a bound on waiting for the consumer, generous for a loaded machine


class DocumentListener:
    """Every version of the documents a Firestore listener (of one document, or of a
    collection) receives, as their fields."""

    def __init__(self, path: str, settings: Settings, collection: bool = False) -> None:
        self._loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()
        self.snapshots: list[dict[str, Any]] = []
        client = firestore_client(settings.FIRESTORE_PROJECT, settings.FIRESTORE_EMULATOR_HOST)
        ref = client.collection(path) if collection else client.document(path)
        self._watch = ref.on_snapshot(self._on_snapshot)

    def _on_snapshot(self, docs: list[Any], changes: object, read_time: object) -> None:
        for doc in docs:
            if doc.exists:
                data = doc.to_dict()
                self._loop.call_soon_threadsafe(self._add, data)

    def _add(self, data: dict[str, Any]) -> None:
        self.snapshots.append(data)
        self._changed.set()

    async def until(self, what: str, holds: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The first snapshot for which `holds` is true; fails after WAIT_SECONDS."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            for data in self.snapshots:
                if holds(data):
                    return data
            self._changed.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"listener never saw {what}; last: {self.snapshots[-1:]}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    def close(self) -> None:
        self._watch.unsubscribe()


@pytest.fixture
async def inbox_app(
    app_factory: Callable[..., Any], kafka_topic: str
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """An app whose inbox consumer has its partitions (so nothing sent is missed). Its
    group is new each time, so it starts at the topic's end: a group kept between runs
    would first have to read everything the shared topic got since the last run."""
    group = f"chat-inbox-test-{uuid.uuid4().hex[:12]}"
    async with app_factory(
        INBOX_ENABLED=True, INBOX_GROUP_ID=group, INBOX_WRITE_INTERVAL_SECONDS=0.5
    ) as pair:
        app = pair[0]

        async def consumer_assigned() -> None:
            while app.state.inbox.consumer is None:
                await asyncio.sleep(0.05)
            await app.state.inbox.consumer.assigned.wait()

        await asyncio.wait_for(consumer_assigned(), 60)
        yield pair


async def send(client: httpx.AsyncClient, user: User, chat_id: str, text: str) -> str:
    response = await client.post(
        f"/chat/{chat_id}/messages", json={"text": text}, headers=user.headers
    )
    assert response.status_code == 201, response.text
    message_id: str = response.json()["id"]
    return message_id


async def listed(client: httpx.AsyncClient, user: User, chat_id: str) -> dict[str, Any]:
    response = await client.get("/chats", headers=user.headers)
    assert response.status_code == 200, response.text
    (item,) = [item for item in response.json()["items"] if item["id"] == chat_id]
    return dict(item)


async def until_listed(
    client: httpx.AsyncClient, user: User, chat_id: str, holds: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """GET /chats until the chat's item satisfies `holds` (the consumer applied events)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        item = await listed(client, user, chat_id)
        if holds(item):
            return item
        if time.monotonic() > deadline:
            pytest.fail(f"GET /chats never showed the expected state; last: {item}")
        await asyncio.sleep(0.1)


async def test_unread_follows_a_burst_a_read_and_the_listeners_see_it(
    inbox_app: tuple[FastAPI, httpx.AsyncClient],
    make_user: Callable[[], Awaitable[User]],
    settings: Settings,
) -> None:
    _, client = inbox_app
    alice, bob = await make_user(), await make_user()
    chat = (
        await client.post("/chats", json={"user_id": str(bob.id)}, headers=alice.headers)
    ).json()
    chat_id = chat["id"]
    bob_inbox = DocumentListener(inbox_path(bob.id, chat_id), settings)
    bob_receipt = DocumentListener(receipt_path(chat_id, bob.id), settings)
    # The running aggregator writes the chat's batches from the same topic.
    bob_batches = DocumentListener(chat_batches(chat_id), settings, collection=True)
    try:
        sent = [await send(client, alice, chat_id, f"hello {n} " + "x" * 150) for n in range(5)]
        item = await until_listed(client, bob, chat_id, lambda i: i["unread"] == 5)
        assert item["last_message"]["id"] == sent[-1]
        assert len(item["last_message"]["text"]) == 100
        assert item["read_up_to"] is None and item["other_read_up_to"] is None
        assert (await listed(client, alice, chat_id))["unread"] == 0
        inbox = await bob_inbox.until("5 unread", lambda d: d["unread"] == 5)
        assert InboxDocument.from_firestore(inbox).other_user_id == alice.id

        def batched() -> set[str]:
            return {
                str(m.id)
                for d in bob_batches.snapshots
                for m in BatchDocument.from_firestore(d).messages
            }

        await bob_batches.until("every message in a batch", lambda _d: set(sent) <= batched())

        read = await client.post(
            f"/chat/{chat_id}/read", json={"up_to": sent[2]}, headers=bob.headers
        )
        assert read.status_code == 204, read.text
        # At once, before the consumer has applied the event.
        item = await listed(client, bob, chat_id)
        assert (item["unread"], item["read_up_to"]) == (2, sent[2])
        # An older mark changes nothing.
        older = await client.post(
            f"/chat/{chat_id}/read", json={"up_to": sent[0]}, headers=bob.headers
        )
        assert older.status_code == 204
        receipt = await bob_receipt.until("the mark", lambda d: d["read_up_to"] == sent[2])
        assert ReceiptDocument.from_firestore(receipt).user_id == bob.id
        inbox = await bob_inbox.until(
            "2 unread after the read", lambda d: d["unread"] == 2 and d["read_up_to"] == sent[2]
        )
        # Every field is always present, so a whole-document write leaves nothing stale.
        assert set(inbox) == set(InboxDocument.model_fields)
        seen_by_alice = await until_listed(
            client, alice, chat_id, lambda i: i["other_read_up_to"] == sent[2]
        )
        assert seen_by_alice["unread"] == 0
        item = await until_listed(client, bob, chat_id, lambda i: i["unread"] == 2)
        assert item["read_up_to"] == sent[2]
        assert all(s["read_up_to"] != sent[0] for s in bob_receipt.snapshots)
    finally:
        bob_inbox.close()
        bob_receipt.close()
        bob_batches.close()


async def test_a_read_racing_a_send_counts_exactly(
    inbox_app: tuple[FastAPI, httpx.AsyncClient], make_user: Callable[[], Awaitable[User]]
) -> None:
    _, client = inbox_app
    alice, bob = await make_user(), await make_user()
    chat_id = (
        await client.post("/chats", json={"user_id": str(bob.id)}, headers=alice.headers)
    ).json()["id"]
    for round_ in range(5):
        latest = await send(client, alice, chat_id, f"before {round_}")
        await until_listed(
            client,
            bob,
            chat_id,
            lambda i, m=latest: i["last_message"] and i["last_message"]["id"] == m,
        )  # type: ignore[misc]
        read, racing = await asyncio.gather(
            client.post(f"/chat/{chat_id}/read", json={"up_to": latest}, headers=bob.headers),
            send(client, alice, chat_id, f"racing {round_}"),
        )
        assert read.status_code == 204, read.text
        # Whatever order they landed in, the racing message is newer than the mark.
        item = await until_listed(
            client,
            bob,
            chat_id,
            lambda i, m=racing: i["last_message"]["id"] == m,  # type: ignore[misc]
        )
        assert (item["unread"], item["read_up_to"]) == (1, latest)


async def test_the_preview_follows_an_edit_and_a_delete_of_the_last_message(
    inbox_app: tuple[FastAPI, httpx.AsyncClient],
    make_user: Callable[[], Awaitable[User]],
    settings: Settings,
) -> None:
    _, client = inbox_app
    alice, bob = await make_user(), await make_user()
    chat_id = (
        await client.post("/chats", json={"user_id": str(bob.id)}, headers=alice.headers)
    ).json()["id"]
    bob_inbox = DocumentListener(inbox_path(bob.id, chat_id), settings)
    try:
        first = await send(client, alice, chat_id, "first")
        last = await send(client, alice, chat_id, "last")
        edited = await client.patch(
            f"/chat/{chat_id}/messages/{last}", json={"text": "last, edited"}, headers=alice.headers
        )
        assert edited.status_code == 200, edited.text
        item = await until_listed(
            client, bob, chat_id, lambda i: (i["last_message"] or {}).get("text") == "last, edited"
        )
        assert (item["last_message"]["id"], item["unread"]) == (last, 2)
        await bob_inbox.until(
            "the edited preview", lambda d: (d["last_message"] or {}).get("text") == "last, edited"
        )
        # Deleting an older message leaves the preview alone; deleting the last blanks it.
        for message_id in (first, last):
            deleted = await client.delete(
                f"/chat/{chat_id}/messages/{message_id}", headers=alice.headers
            )
            assert deleted.status_code == 204, deleted.text
        item = await until_listed(client, bob, chat_id, lambda i: i["last_message"]["text"] is None)
        assert (item["last_message"]["id"], item["unread"]) == (last, 2)
        await bob_inbox.until(
            "the deleted preview",
            lambda d: d["last_message"]["id"] == last and d["last_message"]["text"] is None,
        )
    finally:
        bob_inbox.close()


async def test_read_marks_refuse_strangers_and_bad_marks(
    client: httpx.AsyncClient, make_user: Callable[[], Awaitable[User]]
) -> None:
    alice, bob, eve = await make_user(), await make_user(), await make_user()
    chat_id = (
        await client.post("/chats", json={"user_id": str(bob.id)}, headers=alice.headers)
    ).json()["id"]
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
