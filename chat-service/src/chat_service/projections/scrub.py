"""Deleted text out of Firestore (issue 25, "delete means gone"), done twice.

A batch document is written once by the aggregator and never changed by it; a deleted
message's text would stay readable in it until the batch expires (a day). chat-worker
blanks it: the texts of the deleted message (and of its edits) in the chat's live batches,
with a field-mask update of `messages` and `edits` only, so the aggregator's create-only
writes never meet it in a conflict. The inbox preview of a deleted newest message loses its
text through the inbox projection itself (`domain.counting.apply_deleted`).

Each deletion is scrubbed at once and again `grace` seconds later (`GraceRepeats`): a batch
holding the message may be written after the first pass (the aggregator's window, a retried
write). The record's offset stays held in the offset ledger until the second pass, so a
crash in between replays the record and both passes run again; blanking is idempotent.
"""

import time
import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from aiokafka import TopicPartition
from google.api_core import exceptions as google_errors
from google.cloud.firestore import AsyncClient
from google.cloud.firestore_v1.base_query import FieldFilter

from chat_common.consume.ledger import Hold
from chat_common.consume.projection import Item, Ledger
from chat_common.contract.documents import chat_batches
from chat_common.contract.events import MessageDeleted
from chat_common.contract.times import uuid_time
from chat_service.domain.errors import StoreUnavailable

_FIRESTORE_TIMEOUT_SECONDS = 10.0

# Which entries of a batch (a message or an edit, as stored) lose their text.
EntryFilter = Callable[[Mapping[str, Any]], bool]


def blanked(data: Mapping[str, Any], matches: EntryFilter) -> dict[str, Any] | None:
    """The `messages` and `edits` of a batch document with the matching entries' texts
    blanked; None when no matching entry has a text left (nothing to write)."""
    messages: list[Mapping[str, Any]] = data.get("messages") or []
    edits: list[Mapping[str, Any]] = data.get("edits") or []
    if not any(matches(e) and e.get("text") for e in (*messages, *edits)):
        return None
    return {
        "messages": [{**m, "text": ""} if matches(m) else dict(m) for m in messages],
        "edits": [{**e, "text": ""} if matches(e) else dict(e) for e in edits],
    }


@dataclass(eq=False)
class BatchScrubber:
    """Blanks texts in a chat's live batch documents."""

    firestore: AsyncClient

    async def messages(self, chat_id: uuid.UUID, message_ids: Collection[uuid.UUID]) -> None:
        """The messages' texts and their edits' texts: in the batches from the oldest one's
        time on (one query for all of a chat's deletions in a poll)."""
        wanted = {str(i) for i in message_ids}
        # A batch's times have milliseconds; an id's time is finer.
        since = min(uuid_time(i) for i in message_ids) - timedelta(milliseconds=1)
        query = self.firestore.collection(chat_batches(chat_id)).where(
            filter=FieldFilter("last_sent_at", ">=", since)
        )
        await self._blank(query, lambda entry: str(entry.get("id")) in wanted)

    async def sender(self, chat_id: uuid.UUID, sender_id: uuid.UUID) -> None:
        """Every text of one sender's messages and edits in the chat."""
        query = self.firestore.collection(chat_batches(chat_id)).where(
            filter=FieldFilter("sender_id", "==", str(sender_id))
        )
        await self._blank(query, lambda _entry: True)

    async def _blank(self, query: Any, matches: EntryFilter) -> None:
        try:
            async for snapshot in query.stream(timeout=_FIRESTORE_TIMEOUT_SECONDS):
                update = blanked(snapshot.to_dict() or {}, matches)
                if update is not None:
                    await snapshot.reference.update(update, timeout=_FIRESTORE_TIMEOUT_SECONDS)
        except google_errors.GoogleAPIError as exc:
            # Firestore down (or refusing us): a store that is down, retried; never poison.
            raise StoreUnavailable(f"Firestore: {exc!r}") from exc


Work = Callable[[], Awaitable[object]]


@dataclass(eq=False)
class GraceRepeats:
    """Work done again `grace` seconds after its record was applied, the record's offset
    held in the ledger until then (see the module docstring)."""

    grace: float
    clock: Callable[[], float] = time.monotonic
    _pending: list[tuple[float, Hold[TopicPartition], Work]] = field(
        init=False, default_factory=list
    )

    def add(self, ledger: Ledger, partition: TopicPartition, offset: int, work: Work) -> None:
        hold = ledger.hold(partition, offset, "repeat after grace")
        if hold is not None:  # None: revoked meanwhile, the next owner replays the record
            self._pending.append((self.clock() + self.grace, hold, work))

    async def run_due(self, ledger: Ledger) -> None:
        """Do the work that is due, oldest first; what fails stays for the next flush."""
        now = self.clock()
        while self._pending and self._pending[0][0] <= now:
            _, hold, work = self._pending[0]
            await work()
            self._pending.pop(0)
            ledger.written([hold])

    def seconds_to_due(self) -> float | None:
        return max(0.0, self._pending[0][0] - self.clock()) if self._pending else None

    def forget(self, partitions: Sequence[TopicPartition]) -> None:
        """Revoked partitions' repeats go with their records to the next owner."""
        gone = set(partitions)
        self._pending = [p for p in self._pending if p[1].partition not in gone]

    def __len__(self) -> int:
        return len(self._pending)


@dataclass(eq=False)
class DeletedTexts:
    """The inbox projection's part for `message.deleted`: scrub now, and after grace."""

    scrubber: BatchScrubber
    repeats: GraceRepeats

    async def apply(self, partition: TopicPartition, items: Sequence[Item], ledger: Ledger) -> None:
        # Per chat: the lowest offset of its deletions in these items, and their ids.
        deleted: dict[uuid.UUID, tuple[int, set[uuid.UUID]]] = {}
        for offset, event in items:
            if isinstance(event, MessageDeleted):
                deleted.setdefault(event.chat_id, (offset, set()))[1].add(event.id)
        for chat_id, (low, ids) in deleted.items():
            work = partial(self.scrubber.messages, chat_id, frozenset(ids))
            await work()
            self.repeats.add(ledger, partition, low, work)
