"""Delete means gone (issue 25): within 60 s of a DELETE, or of an account's erasure, a
recognisable text is in no Firestore document and no Cassandra table, and the deleted
user's inbox and receipt documents are gone.

The Firestore emulator has no collection-group queries, so `Places` lists the paths it
reads: the chat's batches and receipts, and both members' inbox collections. In Cassandra
it reads every table that holds text: `message` (every bucket of the chat),
`client_message` (the send's claim), `message_outbox` (the chat's shard, every slot from
the first send until now) and `chat_counts`.
"""

import asyncio
import json
import os
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from cassandra.cluster import Cluster, Session
from google.cloud import firestore

from chat_common.contract.documents import chat_batches, chat_receipts, receipt_path, user_inbox
from chat_common.store_access import CassandraAccessSettings, cassandra_cluster_kwargs
from chat_common.waiting import wait_until
from chat_service.store.outbox import outbox_shard, outbox_slot
from chat_service.store.schema import OUTBOX_SLOT_SECONDS

KEYSPACE = os.environ.get("CASSANDRA_KEYSPACE", "chat")
GONE_WITHIN = 60.0
SEEN_WITHIN = 30.0

User = Any
MakeUser = Callable[[str], Awaitable[User]]


@pytest.fixture(scope="module")
def cassandra() -> Iterator[Session]:
    # As the `tests` role, from the environment (infra/run-tests.sh).
    cluster = Cluster(
        ["127.0.0.1"], protocol_version=5, **cassandra_cluster_kwargs(CassandraAccessSettings())
    )
    try:
        yield cluster.connect(KEYSPACE)
    finally:
        cluster.shutdown()


@dataclass
class Places:
    """Every place a chat's texts can be, read straight from the stores."""

    firestore: firestore.Client
    cassandra: Session
    chat_id: uuid.UUID
    members: tuple[str, str]
    since: datetime
    # (sender id, client_message_id) of the sends to look up in client_message.
    claims: list[tuple[str, str]]

    def firestore_paths(self) -> dict[str, Any]:
        """Path -> fields of every document that may hold the chat's texts."""
        collections = [chat_batches(self.chat_id), chat_receipts(self.chat_id)]
        collections += [user_inbox(member) for member in self.members]
        return {
            doc.reference.path: doc.to_dict()
            for path in collections
            for doc in self.firestore.collection(path).stream()
        }

    def cassandra_rows(self) -> dict[str, list[dict[str, Any]]]:
        """Table -> the rows of it that may hold the chat's texts."""
        c, chat = self.cassandra, self.chat_id
        buckets = [
            r.bucket
            for r in c.execute("SELECT bucket FROM message_bucket WHERE chat_id = %s", (chat,))
        ]
        rows: dict[str, list[dict[str, Any]]] = {
            "message": [],
            "client_message": [],
            "message_outbox": [],
        }
        for bucket in buckets:
            rows["message"] += [
                r._asdict()
                for r in c.execute(
                    "SELECT * FROM message WHERE chat_id = %s AND bucket = %s", (chat, bucket)
                )
            ]
        for sender, client_id in self.claims:
            rows["client_message"] += [
                r._asdict()
                for r in c.execute(
                    "SELECT * FROM client_message WHERE chat_id = %s AND sender_id = %s "
                    "AND client_message_id = %s",
                    (chat, uuid.UUID(sender), client_id),
                )
            ]
        shard = outbox_shard(chat)
        slot, last = outbox_slot(self.since), outbox_slot(datetime.now(UTC)) + OUTBOX_SLOT_SECONDS
        while slot <= last:
            rows["message_outbox"] += [
                r._asdict()
                for r in c.execute(
                    "SELECT * FROM message_outbox WHERE shard = %s AND slot = %s", (shard, slot)
                )
                if r.chat_id == chat
            ]
            slot += OUTBOX_SLOT_SECONDS
        rows["chat_counts"] = [
            r._asdict() for r in c.execute("SELECT * FROM chat_counts WHERE chat_id = %s", (chat,))
        ]
        return rows

    def holding(self, *texts: str) -> list[str]:
        """Where any of `texts` is found: Firestore paths and Cassandra tables."""
        found = [
            path
            for path, fields in self.firestore_paths().items()
            if any(t in json.dumps(fields, default=str) for t in texts)
        ]
        for table, rows in self.cassandra_rows().items():
            found += [
                table for row in rows if any(t in json.dumps(row, default=str) for t in texts)
            ]
        return found

    async def wait_gone(self, *texts: str) -> None:
        async def gone() -> bool:
            return not await asyncio.to_thread(self.holding, *texts)

        try:
            await wait_until(gone, "the texts gone from every store", GONE_WITHIN, interval=1.0)
        except TimeoutError:
            pytest.fail(f"still held after {GONE_WITHIN:.0f} s: {self.holding(*texts)}")

    async def wait_held(self, text: str, where: Callable[[list[str]], bool]) -> None:
        async def held() -> bool:
            return where(await asyncio.to_thread(self.holding, text))

        await wait_until(held, "the text in the stores", SEEN_WITHIN, interval=1.0)


async def _send(http: httpx.AsyncClient, url: str, user: User, chat_id: str, text: str) -> Any:
    client_id = uuid.uuid4().hex
    response = await http.post(
        f"{url}/chat/{chat_id}/messages",
        json={"text": text, "client_message_id": client_id},
        headers=user.headers,
    )
    return response, client_id


@dataclass
class Scene:
    """Two users, their chat, and the places its texts can be."""

    a: User
    b: User
    chat_id: str
    where: Places


@pytest.fixture
def scene(
    make_user: MakeUser,
    open_chat: Callable[[Any, Any], Awaitable[str]],
    firestore_client: firestore.Client,
    cassandra: Session,
) -> Callable[[], Awaitable[Scene]]:
    async def make() -> Scene:
        a, b = await make_user("gone"), await make_user("stays")
        chat_id = await open_chat(a, b)
        members = (a.id, b.id)
        where = Places(
            firestore_client, cassandra, uuid.UUID(chat_id), members, datetime.now(UTC), []
        )
        return Scene(a, b, chat_id, where)

    return make


async def test_a_deleted_message_leaves_no_text_anywhere(
    http: httpx.AsyncClient, urls: Any, scene: Callable[[], Awaitable[Scene]]
) -> None:
    made = await scene()
    sender, other, chat_id, where = made.a, made.b, made.chat_id, made.where
    kept, secret = f"kept-{uuid.uuid4().hex}", f"secret-{uuid.uuid4().hex}"
    edited = f"{secret}-edited"
    answer, client_id = await _send(http, urls.chat, other, chat_id, kept)
    assert answer.status_code == 201, answer.text
    where.claims.append((other.id, client_id))
    answer, client_id = await _send(http, urls.chat, sender, chat_id, secret)
    assert answer.status_code == 201, answer.text
    where.claims.append((sender.id, client_id))
    message_id = answer.json()["id"]
    # The text reaches its batch and both inboxes (the previews) before it is deleted.
    await where.wait_held(
        secret,
        lambda found: (
            {"message", "message_outbox", "chat_counts"} <= set(found)
            and sum(p.startswith("users/") for p in found) == 2
            and any("/batches/" in p for p in found)
        ),
    )
    url = f"{urls.chat}/chat/{chat_id}/messages/{message_id}"
    patched = await http.patch(url, json={"text": edited}, headers=sender.headers)
    assert patched.status_code == 200, patched.text
    await where.wait_held(edited, lambda found: any("/batches/" in p for p in found))
    deleted = await http.delete(url, headers=sender.headers)
    assert deleted.status_code == 204, deleted.text

    await where.wait_gone(secret, edited)
    # What was not deleted is still everywhere it was: the check sees what it looks for.
    still = where.holding(kept)
    assert {"message", "message_outbox"} <= set(still), still
    assert any("/batches/" in p for p in still), still


async def test_an_erased_account_leaves_no_text_and_no_documents(
    http: httpx.AsyncClient,
    urls: Any,
    scene: Callable[[], Awaitable[Scene]],
    firestore_client: firestore.Client,
    delete_account: Callable[[User], Awaitable[None]],
) -> None:
    made = await scene()
    leaver, stayer, chat_id, where = made.a, made.b, made.chat_id, made.where
    marker = f"erased-{uuid.uuid4().hex}"
    answer, client_id = await _send(http, urls.chat, stayer, chat_id, "hello from the stayer")
    assert answer.status_code == 201, answer.text
    read = await http.post(
        f"{urls.chat}/chat/{chat_id}/read",
        json={"up_to": answer.json()["id"]},
        headers=leaver.headers,
    )
    assert read.status_code == 204, read.text
    for i in range(3):
        answer, client_id = await _send(http, urls.chat, leaver, chat_id, f"{marker} {i}")
        assert answer.status_code == 201, answer.text
        where.claims.append((leaver.id, client_id))
    receipt = firestore_client.document(receipt_path(chat_id, leaver.id))
    await where.wait_held(marker, lambda found: any("/batches/" in p for p in found))

    async def receipt_written() -> bool:
        return (await asyncio.to_thread(receipt.get)).exists

    await wait_until(receipt_written, "the leaver's read receipt", SEEN_WITHIN)

    # A send racing the deletion: accepted or refused, its text must go too.
    racing, _ = await asyncio.gather(
        _send(http, urls.chat, leaver, chat_id, f"{marker} racing"), delete_account(leaver)
    )
    if racing[0].status_code == 201:
        where.claims.append((leaver.id, racing[1]))
    else:
        assert racing[0].status_code == 401, racing[0].text

    await where.wait_gone(marker)

    async def documents_gone() -> bool:
        inbox = await asyncio.to_thread(
            lambda: list(firestore_client.collection(user_inbox(leaver.id)).stream())
        )
        return not inbox and not (await asyncio.to_thread(receipt.get)).exists

    await wait_until(
        documents_gone, "the leaver's inbox and receipt documents removed", GONE_WITHIN
    )
