"""The contract against the Firestore emulator that `make up` runs (127.0.0.1:8080).

A batch document written with the factory's asyncio client is read back, and heard by a
query listener of the synchronous client, as the same `BatchDocument`; no client needs
FIRESTORE_EMULATOR_HOST in the environment.
"""

import os
import queue
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from google.cloud.firestore import AsyncClient

from chat_common.contract.documents import BatchDocument, BatchMessage, batch_path, chat_batches
from chat_common.contract.firestore import async_firestore_client, firestore_client
from chat_common.waiting import wait_until_ready

EMULATOR = "127.0.0.1:8080"
PROJECT = "demo-chat"


@pytest.fixture
async def client(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[AsyncClient]:
    monkeypatch.delenv("FIRESTORE_EMULATOR_HOST", raising=False)
    made = async_firestore_client(PROJECT, EMULATOR)

    async def reachable() -> None:
        await made.document("contract-tests/probe").get(timeout=3)

    try:
        await wait_until_ready(reachable, f"Firestore emulator at {EMULATOR}", 60)
    except TimeoutError as exc:
        pytest.fail(f"{exc}; start the servers with `make up`", pytrace=False)
    yield made
    made.close()


def a_batch(chat_id: uuid.UUID) -> BatchDocument:
    alice, bob = uuid.uuid4(), uuid.uuid4()
    first, second = uuid.uuid1(), uuid.uuid1()
    return BatchDocument.of(
        chat_id=chat_id,
        sender_id=alice,
        members=(alice, bob),
        messages=[BatchMessage.of(first, "héllo"), BatchMessage.of(second, "again")],
        created_at=datetime.now(UTC),
        ttl=timedelta(minutes=5),
        completed_by="window",
    )


async def test_a_batch_document_reads_back_as_written(client: AsyncClient) -> None:
    chat_id = uuid.uuid4()
    doc = a_batch(chat_id)
    ref = client.document(batch_path(chat_id, "s_0_0"))
    await ref.create(doc.to_firestore(), timeout=5)
    try:
        snapshot = await ref.get(timeout=5)
        assert BatchDocument.from_firestore(snapshot.to_dict() or {}) == doc
    finally:
        await ref.delete(timeout=5)
    assert "FIRESTORE_EMULATOR_HOST" not in os.environ


async def test_a_listener_hears_the_batch_in_last_sent_at_order(client: AsyncClient) -> None:
    chat_id = uuid.uuid4()
    doc = a_batch(chat_id)
    listener_client = firestore_client(PROJECT, EMULATOR)
    heard: queue.Queue[list[Any]] = queue.Queue()
    query = listener_client.collection(chat_batches(chat_id)).order_by("last_sent_at")

    def on_snapshot(_docs: Any, changes: Any, _read_time: Any) -> None:
        heard.put([change.document.to_dict() for change in changes])

    watch = query.on_snapshot(on_snapshot)
    ref = client.document(batch_path(chat_id, "s_0_0"))
    try:
        assert heard.get(timeout=10) == []  # the initial, empty snapshot: listening now
        await ref.create(doc.to_firestore(), timeout=5)
        added = heard.get(timeout=10)
        assert [BatchDocument.from_firestore(fields) for fields in added] == [doc]
    finally:
        watch.unsubscribe()
        listener_client.close()
        await ref.delete(timeout=5)
