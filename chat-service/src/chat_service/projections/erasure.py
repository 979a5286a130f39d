"""Erasing a deleted account's messages: the projection of `user.deleted` on `user-events`
(group USER_EVENTS_GROUP_ID, in chat-worker).

For every chat of the user, every message they sent is deleted the way the sender's own
DELETE does it (`MessageChanges.erase`: a lightweight transaction that drops the text and
stamps `deleted_at`, the text dropped from its outbox rows, then a `message.deleted`
announced through the outbox), and the text of their messages and edits is blanked in the
chat's Firestore batches that are still alive (`scrub.BatchScrubber`); the user's own inbox
documents and read receipts are removed. All of it runs again after ERASURE_GRACE_SECONDS.
Every step is idempotent: erasing again (a redelivered event after a crash halfway, or a
second deletion) re-announces the same deletions with their first times and blanks what is
already blank, so any number of attempts ends in the same state. The other member's side
of the chat stays; clients show the user as deleted (the auth service no longer knows
them).
"""

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial

from aiokafka import ConsumerRecord, TopicPartition
from google.api_core import exceptions as google_errors
from google.cloud.firestore import AsyncClient

from chat_common.consume.projection import Immediate, Item, Ledger, Poison
from chat_common.contract.documents import receipt_path, user_inbox
from chat_common.contract.events import MalformedEvent, UserDeleted, parse_user_event
from chat_common.contract.times import min_time_uuid
from chat_service.domain.changes import MessageChanges
from chat_service.domain.errors import StoreUnavailable
from chat_service.domain.model import Chat
from chat_service.projections.scrub import BatchScrubber, GraceRepeats
from chat_service.store.changes import ChangeRepository
from chat_service.store.chats import ChatRepository

logger = logging.getLogger(__name__)

_CHAT_PAGE = 100
_BUCKET_PAGE = 16
_MESSAGE_PAGE = 500
_FIRESTORE_TIMEOUT_SECONDS = 10.0


@dataclass(eq=False)
class AccountEraser:
    """Deletes every message of a user from history and from the live batches."""

    repository: ChatRepository
    changes: ChangeRepository
    message_changes: MessageChanges
    firestore: AsyncClient
    scrubber: BatchScrubber = field(init=False)

    def __post_init__(self) -> None:
        self.scrubber = BatchScrubber(self.firestore)

    async def erase(self, user_id: uuid.UUID, again: bool = False) -> int:
        """Erase the user's messages in every chat of theirs; how many were erased.

        `again` (the pass after the grace period) erases only messages not deleted yet: the
        first pass, and its replays, re-announce every deletion, in case one was lost.
        """
        erased = 0
        after: uuid.UUID | None = None
        chat_ids: list[uuid.UUID] = []
        while True:
            chats = await self.repository.list_user_chats(user_id, after, _CHAT_PAGE)
            for item in chats:
                erased += await self._erase_in_chat(item.chat, user_id, again)
                await self.scrubber.sender(item.chat.id, user_id)
            chat_ids += [item.chat.id for item in chats]
            if len(chats) < _CHAT_PAGE:
                break
            after = chats[-1].chat.id
        await self._remove_documents(user_id, chat_ids)
        logger.info("erased %d messages of a deleted account", erased)
        return erased

    async def _erase_in_chat(self, chat: Chat, user_id: uuid.UUID, again: bool) -> int:
        erased = 0
        start = 0
        while True:
            buckets = await self.changes.buckets_from(chat.id, start, _BUCKET_PAGE)
            for bucket in buckets:
                erased += await self._erase_in_bucket(chat, bucket, user_id, again)
            if len(buckets) < _BUCKET_PAGE:
                return erased
            start = buckets[-1] + 1

    async def _erase_in_bucket(
        self, chat: Chat, bucket: int, user_id: uuid.UUID, again: bool
    ) -> int:
        erased = 0
        # Before the bucket's first possible id (a bucket starts on a whole second).
        cursor = min_time_uuid(datetime.fromtimestamp(bucket - 1, UTC))
        while True:
            page = await self.changes.messages_after(chat.id, bucket, cursor, _MESSAGE_PAGE)
            for message in page:
                if message.sender_id == user_id and not (again and message.deleted):
                    await self.message_changes.erase(chat, message, bucket)
                    erased += 1
            if len(page) < _MESSAGE_PAGE:
                return erased
            cursor = page[-1].id

    async def _remove_documents(self, user_id: uuid.UUID, chat_ids: list[uuid.UUID]) -> None:
        """The user's own inbox documents and read receipts: nobody reads them any more."""
        try:
            # A query, not ListDocuments (which the local emulator does not implement).
            inbox = self.firestore.collection(user_inbox(user_id))
            async for snapshot in inbox.stream(timeout=_FIRESTORE_TIMEOUT_SECONDS):
                await snapshot.reference.delete(timeout=_FIRESTORE_TIMEOUT_SECONDS)
            for chat_id in chat_ids:
                await self.firestore.document(receipt_path(chat_id, user_id)).delete(
                    timeout=_FIRESTORE_TIMEOUT_SECONDS
                )
        except google_errors.GoogleAPIError as exc:
            raise StoreUnavailable(f"Firestore: {exc!r}") from exc


@dataclass(eq=False)
class ErasureProjection(Immediate):
    """Each `user.deleted` erases that user's messages at once, and again after a grace
    period (`scrub.GraceRepeats`, the event's offset held until then): sends accepted by a
    replica that had not yet seen the deletion, and batches flushed after the blanking, are
    erased by the second pass. A crash halfway redelivers the event; erasing again changes
    nothing."""

    eraser: AccountEraser
    repeats: GraceRepeats
    transient: tuple[type[BaseException], ...] = (StoreUnavailable,)

    def decode(self, record: ConsumerRecord) -> uuid.UUID | None:
        try:
            event = parse_user_event(record.value)
        except MalformedEvent as exc:
            raise Poison(str(exc)) from exc
        return event.user_id if isinstance(event, UserDeleted) else None

    async def apply(self, partition: TopicPartition, items: Sequence[Item], ledger: Ledger) -> None:
        for offset, user_id in items:
            await self.eraser.erase(user_id)
            self.repeats.add(ledger, partition, offset, partial(self.eraser.erase, user_id, True))

    async def flush(self, ledger: Ledger, force: bool) -> None:
        # Not hurried by `force`: an unrepeated erasure stays held, and is replayed.
        await self.repeats.run_due(ledger)

    def seconds_to_due(self) -> float | None:
        return self.repeats.seconds_to_due()

    def backlog(self, ledger: Ledger) -> int:
        return len(self.repeats)

    def forget(self, partitions: Sequence[TopicPartition]) -> None:
        self.repeats.forget(partitions)
