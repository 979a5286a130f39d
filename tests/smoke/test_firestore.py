"""The Firestore emulator answers the official client the way the aggregator relies on.

Create by id, a second create() fails with AlreadyExists, and a query listener fires for a
newly created document. Collections are uniquely named per test, so the suite can run
again and again against a long-running emulator.
"""

import asyncio
import os
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from google.api_core.exceptions import AlreadyExists
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from chat_common.contract.firestore import async_firestore_client, firestore_client

EMULATOR_HOST = os.environ.get("FIRESTORE_EMULATOR_HOST", "127.0.0.1:8080")
PROJECT = "demo-chat"


@pytest.fixture(scope="session")
async def client(
    server_ready: Callable[[Callable[[], Awaitable[object]], str, str], Awaitable[None]],
) -> AsyncIterator[firestore.AsyncClient]:
    """An async client, once the emulator answers a read (bounded wait)."""
    db = async_firestore_client(PROJECT, EMULATOR_HOST)
    probe = db.collection("smoke-ready").document("probe")
    # The client's own timeout does not bound a call to an unreachable host (it waits for
    # the channel), so bound each try here.
    await server_ready(
        lambda: asyncio.wait_for(probe.get(timeout=2), 3),
        "firestore",
        f"the Firestore emulator at {EMULATOR_HOST}",
    )
    yield db
    db.close()


@pytest.fixture
def sync_client(client: firestore.AsyncClient) -> Iterator[firestore.Client]:
    """A sync client for listeners (on_snapshot runs its callbacks on a thread)."""
    db = firestore_client(PROJECT, EMULATOR_HOST)
    yield db
    db.close()


def _collection() -> str:
    return f"smoke-{uuid.uuid4().hex[:12]}"


async def test_create_by_id_and_read_back(client: firestore.AsyncClient) -> None:
    doc = client.collection(_collection()).document("batch-1")
    await doc.create({"count": 2, "messages": [{"id": "a"}, {"id": "b"}]})
    snapshot = await doc.get()
    assert snapshot.exists
    assert snapshot.id == "batch-1"
    assert snapshot.to_dict() == {"count": 2, "messages": [{"id": "a"}, {"id": "b"}]}


async def test_second_create_fails_with_already_exists(client: firestore.AsyncClient) -> None:
    doc = client.collection(_collection()).document("batch-1")
    await doc.create({"count": 1})
    with pytest.raises(AlreadyExists):
        await doc.create({"count": 99})
    snapshot = await doc.get()
    assert snapshot.to_dict() == {"count": 1}


async def test_query_listener_fires_for_new_document(
    client: firestore.AsyncClient, sync_client: firestore.Client
) -> None:
    collection = _collection()
    chat_id = f"chat-{uuid.uuid4().hex[:8]}"
    added: list[tuple[str, dict[str, Any]]] = []
    seen_new = threading.Event()

    def on_snapshot(_docs: list[Any], changes: list[Any], _read_time: Any) -> None:
        for change in changes:
            if change.type.name == "ADDED":
                added.append((change.document.id, change.document.to_dict()))
        if any(doc_id == "batch-2" for doc_id, _ in added):
            seen_new.set()

    query = sync_client.collection(collection).where(filter=FieldFilter("chat_id", "==", chat_id))
    # One matching document before the listener starts, one that doesn't match, one after.
    await client.collection(collection).document("batch-1").create({"chat_id": chat_id, "n": 1})
    watch = query.on_snapshot(on_snapshot)
    try:
        await client.collection(collection).document("other").create({"chat_id": "x", "n": 0})
        await client.collection(collection).document("batch-2").create({"chat_id": chat_id, "n": 2})
        fired = await asyncio.to_thread(seen_new.wait, 15)
        assert fired, f"listener never reported batch-2; changes seen: {added}"
    finally:
        watch.unsubscribe()
    assert added == [
        ("batch-1", {"chat_id": chat_id, "n": 1}),
        ("batch-2", {"chat_id": chat_id, "n": 2}),
    ]
