"""Erasing a deleted account's messages: the projection of `user.deleted` on `user-events`
(group USER_EVENTS_GROUP_ID, in chat-worker).

For every chat of the user, every message they sent is deleted the way the sender's own
DELETE does it (`MessageChanges.erase`: a lightweight transaction that drops the text and
stamps `deleted_at`, then a `message.deleted` announced through the outbox), and the text
of their messages and edits is blanked in the chat's Firestore batches that are still
alive. Every step is idempotent: erasing again (a redelivered event after a crash halfway,
or a second deletion) re-announces the same deletions with their first times and blanks
what is already blank, so any number of attempts ends in the same state. The other
member's side of the chat stays; clients show the user as deleted (the auth service no
longer knows them).
"""

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition
from google.api_core import exceptions as google_errors
from google.cloud.firestore import AsyncClient
from google.cloud.firestore_v1.base_query import FieldFilter

from chat_common.consume.projection import Immediate, Item, Ledger, Poison
from chat_common.contract.documents import chat_batches
from chat_common.contract.events import MalformedEvent, UserDeleted, parse_user_event
from chat_common.contract.times import min_time_uuid
from chat_service.domain.changes import MessageChanges
from chat_service.domain.errors import StoreUnavailable
from chat_service.domain.model import Chat
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

    async def erase(self, user_id: uuid.UUID) -> int:
        """Erase the user's messages in every chat of theirs; how many were erased."""
        erased = 0
        after: uuid.UUID | None = None
        while True:
            chats = await self.repository.list_user_chats(user_id, after, _CHAT_PAGE)
            for item in chats:
                erased += await self._erase_in_chat(item.chat, user_id)
                await self._blank_batches(item.chat.id, user_id)
            if len(chats) < _CHAT_PAGE:
                break
            after = chats[-1].chat.id
        logger.info("erased %d messages of a deleted account", erased)
        return erased

    async def _erase_in_chat(self, chat: Chat, user_id: uuid.UUID) -> int:
        erased = 0
        start = 0
        while True:
            buckets = await self.changes.buckets_from(chat.id, start, _BUCKET_PAGE)
            for bucket in buckets:
                erased += await self._erase_in_bucket(chat, bucket, user_id)
            if len(buckets) < _BUCKET_PAGE:
                return erased
            start = buckets[-1] + 1

    async def _erase_in_bucket(self, chat: Chat, bucket: int, user_id: uuid.UUID) -> int:
        erased = 0
        # Before the bucket's first possible id (a bucket starts on a whole second).
        cursor = min_time_uuid(datetime.fromtimestamp(bucket - 1, UTC))
        while True:
            page = await self.changes.messages_after(chat.id, bucket, cursor, _MESSAGE_PAGE)
            for message in page:
                if message.sender_id == user_id:
                    await self.message_changes.erase(chat, message, bucket)
                    erased += 1
            if len(page) < _MESSAGE_PAGE:
                return erased
            cursor = page[-1].id

    async def _blank_batches(self, chat_id: uuid.UUID, user_id: uuid.UUID) -> None:
        """Blank the user's texts in the chat's live batch documents.

        The one place a batch document is changed after its creation: erasure must reach
        what clients can still read. Only `messages` and `edits` are replaced (`update`, a
        field mask), so the aggregator's create-only writes never meet it in a conflict.
        """
        try:
            await self._blank(chat_id, user_id)
        except google_errors.GoogleAPIError as exc:
            # Firestore down (or refusing us): a store that is down, retried; never poison.
            raise StoreUnavailable(f"Firestore: {exc!r}") from exc

    async def _blank(self, chat_id: uuid.UUID, user_id: uuid.UUID) -> None:
        query = self.firestore.collection(chat_batches(chat_id)).where(
            filter=FieldFilter("sender_id", "==", str(user_id))
        )
        async for snapshot in query.stream(timeout=_FIRESTORE_TIMEOUT_SECONDS):
            data: dict[str, Any] = snapshot.to_dict() or {}
            messages = [{**m, "text": ""} for m in data.get("messages") or []]
            edits = [{**e, "text": ""} for e in data.get("edits") or []]
            if any(m.get("text") for m in data.get("messages") or []) or any(
                e.get("text") for e in data.get("edits") or []
            ):
                await snapshot.reference.update(
                    {"messages": messages, "edits": edits}, timeout=_FIRESTORE_TIMEOUT_SECONDS
                )


@dataclass(eq=False)
class ErasureProjection(Immediate):
    """Each `user.deleted` erases that user's messages (at once: nothing is held). A crash
    halfway redelivers the event; erasing again changes nothing."""

    eraser: AccountEraser
    transient: tuple[type[BaseException], ...] = (StoreUnavailable,)

    def decode(self, record: ConsumerRecord) -> uuid.UUID | None:
        try:
            event = parse_user_event(record.value)
        except MalformedEvent as exc:
            raise Poison(str(exc)) from exc
        return event.user_id if isinstance(event, UserDeleted) else None

    async def apply(self, partition: TopicPartition, items: Sequence[Item], ledger: Ledger) -> None:
        for _, user_id in items:
            await self.eraser.erase(user_id)
