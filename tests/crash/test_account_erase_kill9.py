"""An account's erasure survives kill -9 of chat-worker halfway: after `make up` every
message of the deleted account is deleted, its text gone from Cassandra and from the live
batches, and each deletion is in exactly one batch document."""

import asyncio
import time
import uuid
from collections import Counter
from typing import Any

import pytest
from cassandra.cluster import Cluster

from chat_common.contract.documents import chat_batches
from chat_common.store_access import CassandraAccessSettings, cassandra_cluster_kwargs

from .conftest import AUTH_URL, CHAT_URL, KEYSPACE, PASSWORD, SETTLE_SECONDS, kill9, make_up, until

MESSAGES = 200
ERASE_SECONDS = 60.0


async def _send_all(stack: Any, chat: Any, count: int) -> list[str]:
    """`count` messages from the first member, at the rate the service allows."""
    sender = chat.members[0]
    ids: list[str] = []
    while len(ids) < count:
        response = await stack.http.post(
            f"{CHAT_URL}/chat/{chat.id}/messages",
            json={"text": f"to be erased {len(ids)}"},
            headers=sender.headers,
        )
        if response.status_code == 429:  # the per-user rate: wait as told
            await asyncio.sleep(float(response.headers["Retry-After"]))
            continue
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


class MessageRows:
    """The chat's history rows, read straight from Cassandra."""

    def __init__(self, chat_id: str) -> None:
        # As the `tests` role, from the environment (infra/run-tests.sh).
        access = cassandra_cluster_kwargs(CassandraAccessSettings())
        self.cluster = Cluster(["127.0.0.1"], protocol_version=5, **access)
        self.session = self.cluster.connect(KEYSPACE)
        self.chat_id = uuid.UUID(chat_id)
        self.buckets = self.session.prepare("SELECT bucket FROM message_bucket WHERE chat_id = ?")
        self.rows = self.session.prepare(
            "SELECT message_id, text, deleted_at FROM message WHERE chat_id = ? AND bucket = ?"
        )

    def read(self) -> dict[str, tuple[str | None, bool]]:
        out: dict[str, tuple[str | None, bool]] = {}
        for b in self.session.execute(self.buckets, (self.chat_id,)):
            for row in self.session.execute(self.rows, (self.chat_id, b.bucket)):
                out[str(row.message_id)] = (row.text, row.deleted_at is not None)
        return out

    def close(self) -> None:
        self.cluster.shutdown()


async def test_kill9_of_chat_worker_halfway_through_an_erasure(stack: Any) -> None:
    chat = await stack.chat()
    leaver = chat.members[0]
    ids = await _send_all(stack, chat, MESSAGES)
    rows = MessageRows(chat.id)
    try:
        deleted = await stack.http.request(
            "DELETE", f"{AUTH_URL}/users/me", json={"password": PASSWORD}, headers=leaver.headers
        )
        assert deleted.status_code == 204, deleted.text
        # Wait for the erasure to start, then kill chat-worker in the middle of it.
        deadline = time.monotonic() + ERASE_SECONDS
        while True:
            done = sum(gone for _, gone in rows.read().values())
            if done:
                break
            assert time.monotonic() < deadline, "the erasure never started"
            await asyncio.sleep(0.005)
        kill9("chat-worker")
        at_kill = sum(gone for _, gone in rows.read().values())
        if at_kill == MESSAGES:
            pytest.fail("the erasure finished before the kill: the test did not crash it midway")
        await make_up()
        await stack.ready()

        async def all_erased() -> bool:
            current = await asyncio.to_thread(rows.read)
            return all(current[i] == (None, True) for i in ids)

        await until("the erasure completed after the restart", all_erased, ERASE_SECONDS)
    finally:
        rows.close()

    def batches() -> list[dict[str, Any]]:
        return [
            d.to_dict() or {} for d in stack.firestore.collection(chat_batches(chat.id)).stream()
        ]

    async def deletes_exactly_once() -> bool:
        docs = await asyncio.to_thread(batches)
        deletes = Counter(e["id"] for d in docs for e in d.get("deletes") or [])
        texts = [m["text"] for d in docs for m in d["messages"]]
        return set(deletes) == set(ids) and not any(texts)

    await until(
        "every deletion in the batches, every text blanked", deletes_exactly_once, SETTLE_SECONDS
    )
    await until("the aggregator drained", stack._aggregator_drained, SETTLE_SECONDS)
    docs = await asyncio.to_thread(batches)
    deletes = Counter(e["id"] for d in docs for e in d.get("deletes") or [])
    doubled = {i: n for i, n in deletes.items() if n != 1}
    assert not doubled, f"deletions in more than one document: {doubled}"
    print(f"killed with {at_kill} of {MESSAGES} messages erased")
