"""The web page and the SSE relays: auth and membership through the app, the Firestore
listening against the real emulator (DESIGN.md's batch and inbox documents, written here as
the aggregator and the inbox consumer write them)."""

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from google.cloud.firestore import AsyncClient
from support import StartChat, User

from auth_validator import Principal
from chat_common.contract.documents import (
    BatchDocument,
    BatchMessage,
    InboxDocument,
    LastMessage,
    batch_path,
    inbox_path,
)
from chat_common.contract.firestore import async_firestore_client, firestore_client
from chat_service.api.inbox_relay import inbox_stream
from chat_service.api.realtime import BatchFeed, event_stream
from chat_service.domain.sessions import RefusedSessions

EMULATOR = "127.0.0.1:8080"
PROJECT = "demo-chat"


@pytest.fixture(scope="module")
async def firestore() -> AsyncIterator[AsyncClient]:
    client = async_firestore_client(PROJECT, EMULATOR)
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        try:
            await client.collection("readiness").document("probe").get(timeout=3)
            break
        except Exception as exc:  # any failure means "not ready yet"
            if asyncio.get_running_loop().time() > deadline:
                pytest.fail(f"Firestore emulator at {EMULATOR} is not ready: {exc!r} (make up)")
            await asyncio.sleep(1)
    yield client
    client.close()


@pytest.fixture(scope="module")
def feed(firestore: AsyncClient) -> Iterator[BatchFeed]:
    feed = BatchFeed(firestore_client(PROJECT, EMULATOR), queue_size=64, open_threads=2)
    yield feed
    feed.close()


async def write_batch(
    firestore: AsyncClient, chat_id: str, sender_id: str, texts: list[str], at: datetime
) -> list[str]:
    ids = [uuid.uuid1() for _ in texts]
    document = BatchDocument.of(
        chat_id=uuid.UUID(chat_id),
        sender_id=uuid.UUID(sender_id),
        members=(uuid.UUID(sender_id), uuid.uuid4()),
        messages=[BatchMessage(id=i, text=t, sent_at=at) for i, t in zip(ids, texts, strict=True)],
        created_at=at,
        ttl=timedelta(days=1),
    )
    doc_id = f"{sender_id}_{int(at.timestamp() * 1000)}_0"
    await firestore.document(batch_path(chat_id, doc_id)).create(document.to_firestore())
    return [str(i) for i in ids]


async def next_frame(stream: AsyncIterator[str], timeout: float = 15.0) -> str:
    while True:
        frame = await asyncio.wait_for(anext(stream), timeout)
        if not frame.startswith((":", "retry:")):
            return frame


async def test_stream_says_ready_then_forwards_each_new_batch_once(
    feed: BatchFeed, firestore: AsyncClient
) -> None:
    chat_id, sender = uuid.uuid4(), str(uuid.uuid4())
    now = datetime.now(UTC)
    await write_batch(firestore, str(chat_id), sender, ["too old"], now - timedelta(minutes=5))
    loop = asyncio.get_running_loop()
    stream = event_stream(
        feed, chat_id, now - timedelta(minutes=1), 1.0, loop.time() + 60, asyncio.Event()
    )
    try:
        assert (await next_frame(stream)).startswith("event: ready")
        first = await write_batch(firestore, str(chat_id), sender, ["a", "b"], datetime.now(UTC))
        frame = await next_frame(stream)
        assert "event: batch" in frame and all(i in frame for i in first)
        assert "too old" not in frame
        second = await write_batch(firestore, str(chat_id), sender, ["c"], datetime.now(UTC))
        frame = await next_frame(stream)
        assert second[0] in frame and first[0] not in frame
    finally:
        await stream.aclose()


async def write_inbox(
    firestore: AsyncClient, user_id: uuid.UUID, chat_id: uuid.UUID, text: str, unread: int
) -> None:
    message_id = uuid.uuid1()
    document = InboxDocument(
        chat_id=chat_id,
        other_user_id=uuid.uuid4(),
        last_message=LastMessage(
            id=message_id, sender_id=uuid.uuid4(), text=text, sent_at=datetime.now(UTC)
        ),
        unread=unread,
        updated_at=datetime.now(UTC),
    )
    await firestore.document(inbox_path(user_id, chat_id)).set(document.to_firestore())


async def test_inbox_stream_forwards_new_and_rewritten_documents_of_its_user_only(
    feed: BatchFeed, firestore: AsyncClient
) -> None:
    user, other_user = uuid.uuid4(), uuid.uuid4()
    old_chat, chat = uuid.uuid4(), uuid.uuid4()
    await write_inbox(firestore, user, old_chat, "before the stream", 1)
    loop = asyncio.get_running_loop()
    stream = inbox_stream(feed, user, datetime.now(UTC), 1.0, loop.time() + 60, asyncio.Event())
    try:
        assert (await next_frame(stream)).startswith("event: ready")
        await write_inbox(firestore, other_user, chat, "not yours", 1)
        await write_inbox(firestore, user, chat, "hello", 1)
        frame = await next_frame(stream)
        assert frame.startswith("id: ") and "event: inbox" in frame
        first = json.loads(frame.split("data: ", 1)[1])
        assert (first["chat_id"], first["unread"]) == (str(chat), 1)
        assert first["last_message"]["text"] == "hello"
        # The same document rewritten (a second message): forwarded again, whole.
        await write_inbox(firestore, user, chat, "again", 2)
        second = json.loads((await next_frame(stream)).split("data: ", 1)[1])
        assert (second["chat_id"], second["unread"]) == (str(chat), 2)
        assert second["last_message"]["text"] == "again"
        assert InboxDocument.model_validate(second).unread == 2
    finally:
        await stream.aclose()


async def test_inbox_events_need_a_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/inbox/events")).status_code == 401
    assert (await client.get("/inbox/events", params={"access_token": "junk"})).status_code == 401


async def test_stream_ends_when_the_token_expires(feed: BatchFeed) -> None:
    loop = asyncio.get_running_loop()
    stream = event_stream(
        feed, uuid.uuid4(), datetime.now(UTC), 0.2, loop.time() + 1.0, asyncio.Event()
    )
    frames = [frame async for frame in stream]
    assert frames[-1].startswith("event: expired")


async def test_stream_ends_when_its_session_is_revoked(feed: BatchFeed) -> None:
    sessions = RefusedSessions()
    caller = Principal(uuid.uuid4(), "u", time.time() + 600, issued_at=time.time() - 1)
    revoked = sessions.watch(caller)
    loop = asyncio.get_running_loop()
    stream = event_stream(feed, uuid.uuid4(), datetime.now(UTC), 0.2, loop.time() + 60, revoked)
    try:
        assert (await next_frame(stream)).startswith("event: ready")
        sessions.revoke(caller.id, time.time())  # a logout-all after the token was issued
        frames = [frame async for frame in stream]
    finally:
        sessions.unwatch(caller, revoked)
        await stream.aclose()
    assert frames[-1].startswith("event: revoked")


async def test_events_need_a_token_and_membership(
    client: httpx.AsyncClient, make_user: Callable[[], Awaitable[User]], start_chat: StartChat
) -> None:
    alice, bob, eve = await make_user(), await make_user(), await make_user()
    chat = await start_chat(alice, bob)
    url = f"/chat/{chat['id']}/events"
    assert (await client.get(url)).status_code == 401
    assert (await client.get(url, params={"access_token": "junk"})).status_code == 401
    token = eve.headers["Authorization"].removeprefix("Bearer ")
    outsider = await client.get(url, params={"access_token": token})
    assert outsider.status_code == 404
    no_chat = await client.get(f"/chat/{uuid.uuid4()}/events", headers=alice.headers)
    assert no_chat.status_code == 404


async def test_the_page_is_served_with_the_auth_url(client: httpx.AsyncClient) -> None:
    page = await client.get("/app")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<meta name="chat-auth-url" content="http://127.0.0.1:8001">' in page.text
    assert "EventSource" in page.text
