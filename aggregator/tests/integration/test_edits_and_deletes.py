"""Edits and deletes come out in batch documents' `edits` / `deletes`, each exactly once,
through `python -m aggregator`, also when redelivered after a kill -9."""

import asyncio
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from chat_common.contract.events import MessageDeleted, MessageEdited


def _entries(docs: list[dict[str, Any]], field: str) -> Counter[str]:
    return Counter(e["id"] for d in docs for e in d.get(field) or [])


async def _wait(batches: Any, chat: str, want: dict[str, set[str]]) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    while True:
        docs: list[dict[str, Any]] = await batches.read([chat])
        if all(ids <= set(_entries(docs, f)) for f, ids in want.items()):
            return docs
        assert time.monotonic() < deadline, f"not all written: {want}, got {docs}"
        await asyncio.sleep(0.3)


def _now() -> datetime:
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond - now.microsecond % 1000)


async def test_edits_and_deletes_ride_in_batches_once_even_after_a_crash(
    events: Any, start_aggregator: Any, batches: Any, chat_ids: Any
) -> None:
    (chat,) = chat_ids(1)
    agg = await start_aggregator()
    sent = [await events.send(chat, "alice", f"m{i}") for i in range(4)]
    sender = uuid.UUID(events.user("alice"))
    members = events.members(chat, str(sender))
    common: dict[str, Any] = {"chat_id": uuid.UUID(chat), "sender_id": sender, "members": members}
    edits = [
        MessageEdited(id=m, text=f"edited {i}", edited_at=_now(), **common).encode()
        for i, m in enumerate(sent[:2])
    ]
    deletes = [MessageDeleted(id=m, deleted_at=_now(), **common).encode() for m in sent[2:]]
    for value in edits + deletes:
        await events.send_raw(chat, value)
    await events.flush()
    want = {
        "messages": {str(m) for m in sent},
        "edits": {str(m) for m in sent[:2]},
        "deletes": {str(m) for m in sent[2:]},
    }
    docs = await _wait(batches, chat, want)
    writes_before = len(docs)

    # The same edits and deletes again (an outbox replay), then a crash and a restart that
    # re-reads what was not committed: still one copy of each, and no document rewritten.
    for value in edits + deletes:
        await events.send_raw(chat, value)
    await events.flush()
    agg.kill9()
    again = await start_aggregator()
    await again.logged("partitions assigned")
    marker = await events.send(chat, "alice", "after the crash")
    await events.flush()
    docs = await _wait(batches, chat, {"messages": {str(marker)}})
    want["messages"].add(str(marker))
    for field, ids in want.items():
        assert _entries(docs, field) == Counter(ids), field
    for doc in docs:
        assert doc["members"] and set(doc["members"]) == {str(m) for m in members}
        assert doc["count"] == len(doc["messages"])
    # The replay added no document of its own: only the marker's.
    assert len(docs) == writes_before + 1
