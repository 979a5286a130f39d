"""Completed groups to Firestore `chats/{chat_id}/batches/{batch_id}`, exactly once.

Which document a group becomes (ids `{sender_id}_{window_start_ms}_{seq}`, duplicates left
out, taken slots walked) is decided by `slot_planner.SlotPlanner`; this module does the
I/O, inside the emulator's faithful subset (DESIGN.md): documents are only ever *created*
(a create fails with AlreadyExists when the id is taken; nothing is set over or updated),
and a taken slot is read to learn which messages it holds. A healthy flush is one batched
commit per 500 documents (Firestore's limit) with no reads. Batch atomicity is not relied
on: the documents of a commit that hit a taken id are retried alone with create-or-read,
which is correct whether the batch half-applied or not.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud.firestore import AsyncClient, AsyncDocumentReference

from aggregator import metrics
from aggregator.aggregation import CompletedGroup, Message
from aggregator.entries import document_lists, held_entries
from aggregator.slot_planner import PlannedDocument, SlotPlanner, by_window, chunks
from aggregator.sweeper import ChatsToSweep
from chat_common.contract.documents import BatchDocument, batch_path

logger = logging.getLogger(__name__)

# A flush must fail fast when Firestore is down: the consumer retries with its own backoff.
RPC_TIMEOUT_SECONDS = 5.0
# Firestore accepts at most 500 writes per commit; bigger flushes commit in parallel chunks.
MAX_BATCH_WRITES = 500
# Known slots of windows older than this are forgotten; a later redelivery reads instead.
WINDOW_MEMORY_SECONDS = 600
# A taken slot that vanishes between create and read (swept) is retried at most this often.
MAX_SLOT_ATTEMPTS = 1000
# Windows resolved at once after a batched create hit a taken id (each walks its slots).
MAX_PARALLEL_WALKS = 64


class SinkUnavailable(RuntimeError):
    """Firestore did not accept the flush; nothing unwritten may be committed."""


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
    created, edits, deletes = document_lists(messages)
    return BatchDocument.of(
        chat_id=uuid.UUID(chat_id),
        sender_id=uuid.UUID(sender_id),
        members=(uuid.UUID(member) for member in members),
        messages=created,
        edits=edits,
        deletes=deletes,
        created_at=now,
        ttl=ttl,
        completed_by=completed_by,
    ).to_firestore()


@dataclass(frozen=True, slots=True)
class FlushResult:
    """Documents created by this flush; messages now in Firestore (created or found)."""

    documents: int
    messages: int
    written: tuple[Message, ...]


@dataclass(eq=False)
class FirestoreSink:
    """Writes completed groups; `write` either writes them all or raises SinkUnavailable.

    Which document a group becomes is `SlotPlanner`'s decision; this class only does the
    I/O. After a SinkUnavailable, calling `write` again with the same groups is cheap and
    correct: what was written is remembered and skipped.
    """

    client: AsyncClient
    ttl_seconds: int
    clock: Callable[[], float] = time.monotonic
    max_sweep_chats: int = 100_000
    ttl: timedelta = field(init=False)
    planner: SlotPlanner = field(init=False)
    # Chats written to, for the sweeper where no TTL policy deletes expired batches.
    chats: ChatsToSweep = field(init=False)

    def __post_init__(self) -> None:
        self.ttl = timedelta(seconds=self.ttl_seconds)
        self.planner = SlotPlanner(WINDOW_MEMORY_SECONDS * 1000)
        self.chats = ChatsToSweep(self.max_sweep_chats)

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def _ref(self, chat_id: str, doc_id: str) -> AsyncDocumentReference:
        return self.client.document(batch_path(chat_id, doc_id))

    def _document(self, planned: PlannedDocument, now: datetime) -> dict[str, Any]:
        group = planned.group
        return batch_document(
            group.chat_id,
            group.sender_id,
            planned.messages,
            group.completed_by.value,
            now,
            self.ttl,
        )

    def _created(self, planned: PlannedDocument, now: datetime) -> None:
        self.planner.created(planned, self._now_ms())
        self.chats.add(planned.group.chat_id, now + self.ttl)

    async def write(self, groups: Sequence[CompletedGroup]) -> FlushResult:
        """Create one document per group (one batched commit per 500 when all goes well)."""
        plan = self.planner.plan(groups, self._now_ms())
        if not plan:
            return FlushResult(0, 0, ())
        now = datetime.now(UTC)
        commits = chunks(plan, MAX_BATCH_WRITES)
        outcomes = await asyncio.gather(
            *(self._commit_batch(chunk, now) for chunk in commits), return_exceptions=True
        )
        retry: list[PlannedDocument] = []
        failure: BaseException | None = None
        for chunk, outcome in zip(commits, outcomes, strict=True):
            if outcome is None:
                for planned in chunk:
                    self._created(planned, now)
            elif isinstance(outcome, gexc.AlreadyExists):
                retry.extend(chunk)
            else:
                failure = outcome
        if failure is not None:
            # What did commit is remembered: the retry of this flush skips it.
            raise SinkUnavailable(f"batched commit failed: {failure!r}") from failure
        documents = len(plan) - len(retry)
        if retry:
            # Some slot was taken (a crash, a rebalance, a half-applied batch): slot by slot.
            logger.info("batched create hit a taken id; resolving %d documents", len(retry))
            documents += await self._walk_windows(retry, now)
        # Every message is in Firestore now: in a document created here or found there.
        return FlushResult(documents, sum(len(p.messages) for p in plan), _messages(plan))

    async def _commit_batch(self, plan: Sequence[PlannedDocument], now: datetime) -> None:
        batch = self.client.batch()
        for planned in plan:
            batch.create(
                self._ref(planned.group.chat_id, planned.doc_id), self._document(planned, now)
            )
        await batch.commit(retry=None, timeout=RPC_TIMEOUT_SECONDS)

    async def _walk_windows(self, plan: Sequence[PlannedDocument], now: datetime) -> int:
        """Walk each window's slots for its documents: windows in parallel, slots in order."""
        gate = asyncio.Semaphore(MAX_PARALLEL_WALKS)

        async def walk(documents: list[PlannedDocument]) -> int:
            async with gate:
                return sum([await self._create_walking(planned, now) for planned in documents])

        outcomes = await asyncio.gather(
            *(walk(documents) for documents in by_window(plan)), return_exceptions=True
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return sum(o for o in outcomes if isinstance(o, int))

    async def _create_walking(self, planned: PlannedDocument, now: datetime) -> int:
        """Create `planned` at the first free slot, reading each taken one on the way."""
        current = self.planner.retarget(planned, self._now_ms())
        for _ in range(MAX_SLOT_ATTEMPTS):
            if current is None:
                return 0
            ref = self._ref(current.group.chat_id, current.doc_id)
            try:
                await ref.create(
                    self._document(current, now), retry=None, timeout=RPC_TIMEOUT_SECONDS
                )
            except gexc.AlreadyExists:
                try:
                    snapshot = await ref.get(retry=None, timeout=RPC_TIMEOUT_SECONDS)
                except gexc.GoogleAPIError as exc:
                    raise SinkUnavailable(f"reading {ref.path} failed: {exc!r}") from exc
                metrics.FIRESTORE_READS.inc()
                if snapshot.exists:
                    held = held_entries(snapshot.to_dict() or {})
                    current = self.planner.taken(current, held, self._now_ms())
                # else: deleted in between (swept): the same slot is free again
                continue
            except gexc.GoogleAPIError as exc:
                raise SinkUnavailable(f"creating {ref.path} failed: {exc!r}") from exc
            self._created(current, now)
            return 1
        raise SinkUnavailable(f"no free slot for window {planned.window}")

    async def ping(self) -> None:
        """Readiness: one cheap read (a missing document is fine, an RPC error is not)."""
        probe = self.client.collection("aggregator-readiness").document("probe")
        await probe.get(retry=None, timeout=2.0)


def _messages(plan: Sequence[PlannedDocument]) -> tuple[Message, ...]:
    return tuple(m for planned in plan for m in planned.messages)
