"""chat-worker frozen (SIGSTOP) and killed (kill -9) while messages flow: the API goes on
accepting sends, the inbox stands still while the worker is away, and once it is back it
catches up exactly: every message counted once, none lost.

How fast sends stay with the worker stopped is measured in bench/ (the worker-stopped
row), not asserted here; the per-send bound below only guards against a hang.
"""

import asyncio
import os
import signal
from typing import Any

from chat_common.contract.documents import inbox_path
from tests.crash.conftest import (
    CHAT_URL,
    STATE,
    Chat,
    inbox_committed_past,
    kill9,
    make_up,
    topic_ends,
    until,
)

SETTLE_SECONDS = 120.0
MESSAGES = 40


def worker_pid() -> int:
    return int((STATE / "chat-worker" / "pid").read_text())


async def unread(stack: Any, chat: Chat) -> int:
    reader = chat.members[1]
    page = await stack.http.get(f"{CHAT_URL}/chats", headers=reader.headers)
    assert page.status_code == 200, page.text
    (item,) = [item for item in page.json()["items"] if item["id"] == chat.id]
    count: int = item["unread"]
    return count


async def inbox_unread(stack: Any, chat: Chat) -> int | None:
    reader = chat.members[1]

    def read() -> int | None:
        doc = stack.firestore.document(inbox_path(reader.id, chat.id)).get().to_dict()
        return None if doc is None else int(doc["unread"])

    result: int | None = await asyncio.to_thread(read)
    return result


async def send_from_first(stack: Any, chat: Chat, count: int, tag: str) -> list[str]:
    """`count` sends from the first member, one after another; each must get its 201."""
    ids = []
    for n in range(count):
        async with asyncio.timeout(30):  # a bound against a hang only
            response = await stack.http.post(
                f"{CHAT_URL}/chat/{chat.id}/messages",
                json={"text": f"{tag} {n}"},
                headers=chat.members[0].headers,
            )
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


async def test_sends_go_on_while_the_worker_is_stopped_and_it_catches_up_exactly(
    stack: Any,
) -> None:
    chat = await stack.chat()
    pid = worker_pid()
    os.kill(pid, signal.SIGSTOP)
    try:
        ids = await send_from_first(stack, chat, MESSAGES, "while stopped")
        # The events are on Kafka (the aggregator consumed and wrote every one of them)...
        await until(
            "every message in a batch document",
            lambda: _all_in(stack, chat, ids),
            SETTLE_SECONDS,
        )
        # ...and still nothing is counted: the inbox projection is frozen.
        assert await unread(stack, chat) == 0
        assert await inbox_unread(stack, chat) in (None, 0)
    finally:
        os.kill(pid, signal.SIGCONT)

    await settled(stack, chat, len(ids))


async def test_unread_is_exact_after_the_worker_is_killed_while_messages_flow(
    stack: Any,
) -> None:
    chat = await stack.chat()
    flowing = asyncio.create_task(send_from_first(stack, chat, MESSAGES, "flowing"))
    # Kill it once the projection has counted some of them, with more still coming.
    await until("some counted", lambda: _counted_some(stack, chat), SETTLE_SECONDS)
    kill9("chat-worker")
    ids = await flowing
    await make_up()
    await stack.ready()

    assert len(set(ids)) == MESSAGES
    await settled(stack, chat, MESSAGES)


async def settled(stack: Any, chat: Chat, expected: int) -> None:
    """Once the inbox group has committed everything on the topic now (it commits only
    behind what it counted and wrote), the counts must be exactly `expected`."""
    ends = await topic_ends()
    await until(
        "the inbox projection committed everything announced",
        lambda: inbox_committed_past(ends),
        SETTLE_SECONDS,
    )
    assert await unread(stack, chat) == expected
    assert await inbox_unread(stack, chat) == expected


async def _all_in(stack: Any, chat: Chat, ids: list[str]) -> bool:
    return set(ids) <= set(await stack.firestore_ids(chat))


async def _counted_some(stack: Any, chat: Chat) -> bool:
    return await unread(stack, chat) > 0
