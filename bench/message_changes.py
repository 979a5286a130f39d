"""Firestore writes of edits and deletes: they ride in the sender's batches, adding none.

Two chats get the same schedule from one sender: rounds of three messages 100 ms apart,
then a quiet gap (so every round opens with an eager first document). In the second chat
each round also edits its second message and deletes its third right after sending them,
inside the same aggregation window. The baseline is the first chat's documents per round;
the figure is the second's, and the writes each change added: (documents with changes -
documents without) / changes, 0 when edits and deletes only ride in batches that the
messages cause anyway.
"""

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import aiohttp

from bench import api
from bench.firestore_docs import batches, delete_batches
from bench.options import Options
from bench.results import Headline, Results, fmt, table
from chat_common.contract.documents import BatchDocument
from chat_common.contract.firestore import firestore_client

ROUNDS = 10
GAP_SECONDS = 1.6  # longer than the aggregation window: the next round starts eagerly
ARRIVAL_TIMEOUT_SECONDS = 60.0


async def _change(
    chat: aiohttp.ClientSession, method: str, path: str, user: api.User, body: Any = None
) -> None:
    async with chat.request(method, path, json=body, headers=user.headers) as response:
        if response.status not in (200, 204):
            raise RuntimeError(f"{method} {path}: HTTP {response.status}")


async def _rounds(
    chat: aiohttp.ClientSession, chat_id: str, user: api.User, with_changes: bool
) -> tuple[set[str], int]:
    """Send the schedule; (every message id, how many edits and deletes were made)."""
    ids: set[str] = set()
    changes = 0
    for n in range(ROUNDS):
        round_ids = []
        for k in range(3):
            sent = await api.send(chat, chat_id, user, f"round {n} message {k}")
            if not sent.message_id:
                raise RuntimeError(f"send failed: {sent.status}")
            round_ids.append(sent.message_id)
            await asyncio.sleep(0.1)  # the schedule's spacing
        if with_changes:
            base = f"/chat/{chat_id}/messages/"
            await _change(chat, "PATCH", base + round_ids[1], user, {"text": f"edited {n}"})
            await _change(chat, "DELETE", base + round_ids[2], user)
            changes += 2
        ids.update(round_ids)
        await asyncio.sleep(GAP_SECONDS)  # quiet, so the next round starts a new window
    return ids, changes


def _documents(db: Any, chat_id: str, since: datetime) -> list[BatchDocument]:
    return [
        BatchDocument.from_firestore(d.to_dict() or {})
        for d in batches(db, chat_id, since).stream()
    ]


async def _written(
    db: Any, chat_id: str, since: datetime, ids: set[str], changes: int
) -> list[BatchDocument]:
    """The chat's documents once every message and change is in one (bounded wait)."""
    deadline = time.monotonic() + ARRIVAL_TIMEOUT_SECONDS
    while True:
        docs = await asyncio.to_thread(_documents, db, chat_id, since)
        held = {str(m.id) for d in docs for m in d.messages}
        carried = sum(len(d.edits) + len(d.deletes) for d in docs)
        if (ids <= held and carried >= changes) or time.monotonic() > deadline:
            return docs
        await asyncio.sleep(0.5)


async def run(options: Options, results: Results) -> None:
    names = ["bench_chg_a", "bench_chg_b", "bench_chg_c"]
    async with api.session(options.auth_url, 4) as auth, api.session(options.chat_url, 4) as chat:
        sender, plain_peer, change_peer = await api.login_all(auth, names)
        plain_chat = await api.open_chat(chat, sender, plain_peer)
        change_chat = await api.open_chat(chat, sender, change_peer)
        db = firestore_client(options.firestore_project, options.firestore)
        since = datetime.now(UTC)
        try:
            plain_ids, _ = await _rounds(chat, plain_chat, sender, with_changes=False)
            change_ids, changes = await _rounds(chat, change_chat, sender, with_changes=True)
            plain = await _written(db, plain_chat, since, plain_ids, 0)
            changed = await _written(db, change_chat, since, change_ids, changes)
        finally:
            try:
                await asyncio.to_thread(delete_batches, db, [plain_chat, change_chat], since)
            finally:
                db.close()
    carried = sum(len(d.edits) + len(d.deletes) for d in changed)
    alone = sum(1 for d in changed if not d.messages)
    base = results.figure("firestore.changes.baseline_docs_per_round", len(plain) / ROUNDS)
    with_changes = results.figure("firestore.changes.docs_per_round", len(changed) / ROUNDS)
    added = results.figure(
        "firestore.changes.writes_added_per_change", (len(changed) - len(plain)) / max(changes, 1)
    )
    results.figure("firestore.changes.changes_carried", carried)
    results.figure("firestore.changes.docs_with_only_changes", alone)
    results.headline(
        Headline(
            "Firestore batch documents per round, 3 messages + 1 edit + 1 delete",
            with_changes,
            "docs",
            "3 messages, no changes",
            base,
            "ratio 1: changes add no write",
        )
    )
    rows = [
        ["3 messages", str(ROUNDS), str(len(plain)), fmt(base, 2), "0", "-"],
        [
            "3 messages + edit + delete",
            str(ROUNDS),
            str(len(changed)),
            fmt(with_changes, 2),
            f"{carried} of {changes}",
            fmt(added, 3),
        ],
    ]
    header = ["schedule", "rounds", "batch docs", "docs/round", "changes carried", "writes/change"]
    results.section(
        "Edits and deletes in Firestore",
        table(header, rows) + f"\n\nDocuments holding only edits/deletes (no message): {alone}. "
        "Each round: three messages 100 ms apart, a quiet gap longer than the window; the "
        "second schedule also edits and deletes right after its sends.\n",
    )
