"""The inbox projection on the real servers: unread counts in GET /chats, and the Firestore
inbox and receipt documents a member's listeners see follow opened chats, messages, read
marks, edits and deletes.

The API and a worker with the inbox projection run against real Cassandra, Kafka and the
Firestore emulator (the running aggregator writes the chats' batches from the same topic).
"""

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, NamedTuple

import httpx
import pytest
from chat_calls import listed, send, until_listed
from fastapi import FastAPI
from firestore_listener import DocumentListener
from prometheus_client import REGISTRY
from support import User

from chat_common.contract.documents import (
    BatchDocument,
    InboxDocument,
    ReceiptDocument,
    chat_batches,
    inbox_path,
    receipt_path,
)
from chat_service.config import Settings

InboxApp = tuple[FastAPI, httpx.AsyncClient]
# Start a listener of a document (or, collection=True, of a collection).
Listen = Callable[..., DocumentListener]


class Opened(NamedTuple):
    """A client of the inbox app, two fresh users, and the chat the first opened."""

    client: httpx.AsyncClient
    alice: User
    bob: User
    chat_id: str


@pytest.fixture
async def inbox_app(
    app_and_client: InboxApp, worker_factory: Callable[..., Any]
) -> AsyncIterator[InboxApp]:
    """The API, and a worker whose inbox projection has its partitions (so nothing sent is
    missed); its group is new each time (see `settings_for_test`)."""
    async with worker_factory(INBOX_WRITE_INTERVAL_SECONDS=0.5) as (worker, _):
        await asyncio.wait_for(worker.state.inbox.assigned.wait(), 60)
        yield app_and_client


@pytest.fixture
async def opened(inbox_app: InboxApp, pair: tuple[User, User]) -> Opened:
    """The chat of two fresh users, opened once the inbox projection listens."""
    (_, client), (alice, bob) = inbox_app, pair
    response = await client.post("/chats", json={"user_id": str(bob.id)}, headers=alice.headers)
    assert response.status_code == 201, response.text
    return Opened(client, alice, bob, response.json()["id"])


@pytest.fixture
def listen(settings: Settings) -> Iterator[Listen]:
    """Start Firestore listeners; all are closed after the test."""
    listeners: list[DocumentListener] = []

    def start(path: str, collection: bool = False) -> DocumentListener:
        listeners.append(DocumentListener(path, settings, collection))
        return listeners[-1]

    yield start
    for listener in listeners:
        listener.close()


async def test_an_opened_chat_enters_both_inboxes_and_a_repeat_clears_nothing(
    kafka_events: Any, opened: Opened, listen: Listen
) -> None:
    client, alice, bob, chat_id = opened
    listeners = {user.id: listen(inbox_path(user.id, chat_id)) for user in (alice, bob)}
    for user, other in ((alice, bob), (bob, alice)):
        fields = await listeners[user.id].until("the opened chat", lambda _d: True)
        assert InboxDocument.from_firestore(fields).model_dump(exclude={"updated_at"}) == {
            "chat_id": chat_id,
            "other_user_id": str(other.id),
            "last_message": None,
            "unread": 0,
            "read_up_to": None,
            "other_read_up_to": None,
        }
        item = await listed(client, user, chat_id)
        assert (item["last_message"], item["unread"]) == (None, 0)

    sent = await send(client, alice, chat_id, "hello")
    bob_inbox = listeners[bob.id]
    seen = await bob_inbox.until(
        "the message", lambda d: (d["last_message"] or {}).get("id") == sent
    )
    assert (seen["last_message"]["id"], seen["unread"]) == (sent, 1)
    # Bob opens the same chat: not announced again (N9), his entry stays as it stands.
    again = await client.post("/chats", json={"user_id": str(alice.id)}, headers=bob.headers)
    assert again.status_code == 200, again.text
    # Events of a chat stay in order: once a later message is on Kafka, a second
    # chat.created would be there before it.
    later = await send(client, alice, chat_id, "later")
    await kafka_events.wait_for([later])
    (only,) = (event for _key, event in kafka_events.events[chat_id])
    assert (only["type"], only["members"]) == ("chat.created", sorted(only["members"]))


async def test_unread_follows_a_burst_a_read_and_the_listeners_see_it(
    opened: Opened, listen: Listen
) -> None:
    client, alice, bob, chat_id = opened
    bob_inbox = listen(inbox_path(bob.id, chat_id))
    bob_receipt = listen(receipt_path(chat_id, bob.id))
    # The running aggregator writes the chat's batches from the same topic.
    bob_batches = listen(chat_batches(chat_id), collection=True)
    applied_before = REGISTRY.get_sample_value("chat_inbox_events_applied_total") or 0.0
    sent = [await send(client, alice, chat_id, f"hello {n} " + "x" * 150) for n in range(5)]
    item = await until_listed(client, bob, chat_id, lambda i: i["unread"] == 5)
    assert item["last_message"]["id"] == sent[-1]
    assert len(item["last_message"]["text"]) == 100
    assert item["read_up_to"] is None and item["other_read_up_to"] is None
    assert (await listed(client, alice, chat_id))["unread"] == 0
    inbox = await bob_inbox.until("5 unread", lambda d: d["unread"] == 5)
    assert InboxDocument.from_firestore(inbox).other_user_id == alice.id
    # The consumer's progress, as operators (and the bench) read it.
    applied = REGISTRY.get_sample_value("chat_inbox_events_applied_total") or 0.0
    assert applied - applied_before >= 5

    def batched() -> set[str]:
        return {
            str(m.id)
            for d in bob_batches.snapshots
            for m in BatchDocument.from_firestore(d).messages
        }

    await bob_batches.until("every message in a batch", lambda _d: set(sent) <= batched())

    read = await client.post(f"/chat/{chat_id}/read", json={"up_to": sent[2]}, headers=bob.headers)
    assert read.status_code == 204, read.text
    # At once, before the consumer has applied the event.
    item = await listed(client, bob, chat_id)
    assert (item["unread"], item["read_up_to"]) == (2, sent[2])
    # An older mark changes nothing.
    older = await client.post(f"/chat/{chat_id}/read", json={"up_to": sent[0]}, headers=bob.headers)
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


async def test_a_read_racing_a_send_counts_exactly(opened: Opened) -> None:
    client, alice, bob, chat_id = opened
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
    opened: Opened, listen: Listen
) -> None:
    client, alice, bob, chat_id = opened
    bob_inbox = listen(inbox_path(bob.id, chat_id))
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
        # The first version, from the opened chat, has no last message.
        lambda d: (d["last_message"] or {}).get("id") == last and d["last_message"]["text"] is None,
    )
