"""Unread counts survive kill -9 of the process that keeps them (chat-worker, whose inbox
projection is the one ordered writer per chat): after the restart the projection replays
what it had not committed, and still no message is counted twice and no read mark is
lost, in GET /chats and in the Firestore inbox. Every wait is on an event, bounded."""

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from chat_common.contract.documents import inbox_path
from tests.crash.conftest import (
    CHAT_URL,
    SETTLE_SECONDS,
    inbox_committed_past,
    kill9,
    make_up,
    swept_past,
    topic_ends,
    until,
)

BURST = 40
READ_AT = 10


async def test_unread_is_exact_after_chat_worker_is_killed_mid_counting(stack: Any) -> None:
    chat = await stack.chat()
    sender, reader = chat.members
    one_way = type(chat)(chat.id, (sender, sender))  # `burst` then sends as `sender` only
    sent, _ = await stack.burst(one_way, BURST)
    mark = sorted(sent, key=lambda i: uuid.UUID(i).time)[READ_AT - 1]
    read = await stack.http.post(
        f"{CHAT_URL}/chat/{chat.id}/read", json={"up_to": mark}, headers=reader.headers
    )
    assert read.status_code == 204, read.text
    kill9("chat-worker")
    await make_up()
    await stack.ready()
    more, _ = await stack.burst(one_way, 5)
    sent += more
    expected = sum(1 for i in sent if uuid.UUID(i).time > uuid.UUID(mark).time)
    last_send = datetime.now(UTC)
    await until(
        "the relay announced again what it had not recorded",
        lambda: swept_past(last_send),
        SETTLE_SECONDS,
    )
    ends = await topic_ends()
    await until(
        "the inbox consumer committed everything announced",
        lambda: inbox_committed_past(ends),
        SETTLE_SECONDS,
    )

    page = await stack.http.get(f"{CHAT_URL}/chats", headers=reader.headers)
    assert page.status_code == 200, page.text
    (item,) = [item for item in page.json()["items"] if item["id"] == chat.id]
    assert (item["unread"], item["read_up_to"]) == (expected, mark), item
    newest = max(sent, key=lambda i: uuid.UUID(i).time)
    assert item["last_message"]["id"] == newest

    doc = await asyncio.to_thread(
        lambda: stack.firestore.document(inbox_path(reader.id, chat.id)).get().to_dict()
    )
    assert doc is not None
    assert (doc["unread"], doc["read_up_to"], doc["last_message"]["id"]) == (
        expected,
        mark,
        newest,
    )
