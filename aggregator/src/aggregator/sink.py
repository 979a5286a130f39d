"""Completed groups to Firestore `chats/{chat_id}/batches/{batch_id}`, exactly once.

Batch ids are `{sender_id}_{window_start_ms}_{seq}`: the window comes from the message's
time UUID (see aggregation.py), so it is the same whatever the consumer saw before a
crash; `seq` is the first free slot in that window's sequence of documents.

Exactly once rests on three rules that stay inside the emulator's faithful subset
(DESIGN.md): documents are only ever *created* (a create fails with AlreadyExists when the
id is taken; nothing is set over or updated), a document never changes once created, and a
writer that finds a slot taken reads it and drops the messages it already holds before
moving to the next slot. Two writers holding the same message walk the same slots from 0,
so the second always sees the first's document before it could write the message again.
Known slots are remembered per window, so a healthy flush is one batched commit (one per
500 documents, Firestore's limit) with no reads. Batch atomicity is not relied on: if a
batched commit fails, every document is retried alone with create-or-read, which is
correct whether the batch half-applied or not.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud.firestore import AsyncClient, AsyncDocumentReference

from aggregator import metrics
from aggregator.aggregation import CompletedGroup, Message
from chat_common.contract.documents import BatchDocument, BatchMessage

logger = logging.getLogger(__name__)

# A flush must fail fast when Firestore is down: the consumer retries with its own backoff.
RPC_TIMEOUT_SECONDS = 5.0
# Firestore accepts at most 500 writes per commit; bigger flushes commit in parallel chunks.
MAX_BATCH_WRITES = 500
# Known slots of windows older than this are forgotten; a later redelivery reads instead.
WINDOW_MEMORY_SECONDS = 600
# A taken slot that vanishes between create and read (swept) is retried at most this often.
MAX_SLOT_ATTEMPTS = 1000


class SinkUnavailable(RuntimeError):
    """Firestore did not accept the flush; nothing unwritten may be committed."""


def batch_id(sender_id: str, window_start_ms: int, seq: int) -> str:
    return f"{sender_id}_{window_start_ms}_{seq}"


def batch_document(
    chat_id: str,
    sender_id: str,
    messages: Sequence[Message],
    completed_by: str,
    now: datetime,
    ttl: timedelta,
) -> dict[str, Any]:
    """The fields of a group's `BatchDocument` (the contract), with why it completed.

    Message times come from their ids. `members` are the chat's, from the first message
    whose event carried them (version-1 events carry none).
    """
    members = next((m.members for m in messages if m.members), ())
    return BatchDocument.of(
        chat_id=uuid.UUID(chat_id),
        sender_id=uuid.UUID(sender_id),
        members=(uuid.UUID(member) for member in members),
        messages=(BatchMessage.of(m.id, m.text) for m in messages),
        created_at=now,
        ttl=ttl,
        completed_by=completed_by,
    ).to_firestore()


WindowKey = tuple[str, str, int]
"""(chat_id, sender_id, window_start_ms)."""


@dataclass(slots=True)
class _WindowSlots:
    """What this process knows of one window's documents (immutable once created)."""

    next_seq: int = 0
    message_ids: set[str] = field(default_factory=set)
    touched: float = field(default_factory=time.monotonic)


@dataclass(slots=True)
class _Pending:
    window: WindowKey
    messages: list[Message]
    completed_by: str
    seq: int


@dataclass(frozen=True, slots=True)
class FlushResult:
    """Documents created by this flush; messages now in Firestore (created or found)."""

    documents: int
    messages: int
    written: tuple[Message, ...]


class FirestoreSink:
    """Writes completed groups; `write` either writes them all or raises SinkUnavailable.

    After a SinkUnavailable, calling `write` again with the same groups is cheap and
    correct: what was written is remembered and skipped.
    """

    def __init__(self, client: AsyncClient, ttl_seconds: int) -> None:
        self.client = client
        self.ttl = timedelta(seconds=ttl_seconds)
        self._slots: dict[WindowKey, _WindowSlots] = {}
        # Chats written to since start, for the sweeper (it also lists them from Firestore).
        self.chats: set[str] = set()

    def _ref(self, chat_id: str, doc_id: str) -> AsyncDocumentReference:
        return (
            self.client.collection("chats").document(chat_id).collection("batches").document(doc_id)
        )

    def _pending(self, groups: Iterable[CompletedGroup]) -> list[_Pending]:
        pending: list[_Pending] = []
        # Several groups of one window can complete together (a size split, a backlog
        # replayed after a restart): each gets its own slot within the batch.
        allocated: dict[WindowKey, int] = {}
        for group in groups:
            window = (group.chat_id, group.sender_id, group.window_start_ms)
            known = self._slots.setdefault(window, _WindowSlots())
            known.touched = time.monotonic()
            fresh = [m for m in group.messages if str(m.id) not in known.message_ids]
            if fresh:
                seq = allocated.get(window, known.next_seq)
                allocated[window] = seq + 1
                pending.append(_Pending(window, fresh, group.completed_by.value, seq))
        return pending

    async def write(self, groups: Sequence[CompletedGroup]) -> FlushResult:
        """Create one document per group (one batched commit per 500 when all goes well)."""
        self._forget_old_windows()
        pending = self._pending(groups)
        if not pending:
            return FlushResult(0, 0, ())
        now = datetime.now(UTC)
        chunks = [
            pending[i : i + MAX_BATCH_WRITES] for i in range(0, len(pending), MAX_BATCH_WRITES)
        ]
        outcomes = await asyncio.gather(
            *(self._commit_batch(chunk, now) for chunk in chunks), return_exceptions=True
        )
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        if any(isinstance(f, gexc.AlreadyExists) for f in failures):
            # Some slot was taken (a crash, a rebalance, a half-applied batch): slot by slot.
            logger.info("batched create hit a taken id; resolving %d documents", len(pending))
            return await self._write_one_by_one(pending, now)
        if failures:
            raise SinkUnavailable(f"batched commit failed: {failures[0]!r}") from failures[0]
        written: list[Message] = []
        for item in pending:
            self._remember(item.window, item.messages, item.seq)
            written.extend(item.messages)
        return self._result(len(pending), written)

    async def _commit_batch(self, pending: Sequence[_Pending], now: datetime) -> None:
        batch = self.client.batch()
        for item in pending:
            chat_id, sender_id, window_start = item.window
            ref = self._ref(chat_id, batch_id(sender_id, window_start, item.seq))
            batch.create(
                ref,
                batch_document(chat_id, sender_id, item.messages, item.completed_by, now, self.ttl),
            )
        await batch.commit(retry=None, timeout=RPC_TIMEOUT_SECONDS)

    async def _write_one_by_one(self, pending: Sequence[_Pending], now: datetime) -> FlushResult:
        documents = 0
        for item in pending:
            documents += await self._create_or_merge(item, now)
        # Every message is in Firestore now: in a document created here or found there.
        return self._result(documents, [m for item in pending for m in item.messages])

    async def _create_or_merge(self, item: _Pending, now: datetime) -> int:
        """Walk the window's slots from the first unknown one; create where free."""
        chat_id, sender_id, window_start = item.window
        known = self._slots[item.window]
        remaining = [m for m in item.messages if str(m.id) not in known.message_ids]
        for _ in range(MAX_SLOT_ATTEMPTS):
            if not remaining:
                return 0
            ref = self._ref(chat_id, batch_id(sender_id, window_start, known.next_seq))
            try:
                await ref.create(
                    batch_document(chat_id, sender_id, remaining, item.completed_by, now, self.ttl),
                    retry=None,
                    timeout=RPC_TIMEOUT_SECONDS,
                )
            except gexc.AlreadyExists:
                try:
                    snapshot = await ref.get(retry=None, timeout=RPC_TIMEOUT_SECONDS)
                except gexc.GoogleAPIError as exc:
                    raise SinkUnavailable(f"reading {ref.path} failed: {exc!r}") from exc
                metrics.FIRESTORE_READS.inc()
                if not snapshot.exists:
                    continue  # deleted in between (swept): the slot is free again
                held = {str(entry["id"]) for entry in (snapshot.get("messages") or [])}
                known.message_ids |= held
                known.next_seq += 1
                remaining = [m for m in remaining if str(m.id) not in held]
                continue
            except gexc.GoogleAPIError as exc:
                raise SinkUnavailable(f"creating {ref.path} failed: {exc!r}") from exc
            self._remember(item.window, remaining, known.next_seq)
            return 1
        raise SinkUnavailable(f"no free slot for window {item.window}")

    def _remember(self, window: WindowKey, messages: Sequence[Message], seq: int) -> None:
        self.chats.add(window[0])
        known = self._slots[window]
        known.message_ids.update(str(m.id) for m in messages)
        known.next_seq = max(known.next_seq, seq + 1)

    def _forget_old_windows(self) -> None:
        horizon = time.monotonic() - WINDOW_MEMORY_SECONDS
        for window in [w for w, s in self._slots.items() if s.touched < horizon]:
            del self._slots[window]

    @staticmethod
    def _result(documents: int, written: list[Message]) -> FlushResult:
        return FlushResult(documents, len(written), tuple(written))

    async def ping(self) -> None:
        """Readiness: one cheap read (a missing document is fine, an RPC error is not)."""
        probe = self.client.collection("aggregator-readiness").document("probe")
        await probe.get(retry=None, timeout=2.0)
