"""Erasing a deleted account's messages (`user.deleted` on `user-events`).

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

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer
from google.cloud.firestore import AsyncClient
from google.cloud.firestore_v1.base_query import FieldFilter

from chat_common.backoff import Backoff, wait_or_stop
from chat_common.contract.documents import chat_batches
from chat_common.contract.events import MalformedEvent, parse_user_event
from chat_common.contract.times import min_time_uuid
from chat_service.domain.changes import MessageChanges
from chat_service.domain.model import Chat
from chat_service.kafka_source import KafkaSource
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


_FIRST_RETRY_SECONDS = 0.5
_MAX_RETRY_SECONDS = 5.0


class ErasureRunner:
    """The group USER_EVENTS_GROUP_ID (one worker per partition) erases each deleted user's
    messages and commits the record's offset only after the erasure finished. A crash
    halfway redelivers the event; erasing is idempotent."""

    def __init__(self, source: KafkaSource, eraser: AccountEraser) -> None:
        self._source = source
        self._eraser = eraser
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        backoff = Backoff(_FIRST_RETRY_SECONDS, _MAX_RETRY_SECONDS)
        while not self._stopping.is_set():
            consumer = self._source.consumer("earliest")
            try:
                await consumer.start()
                backoff.succeeded()
                await self._erase_loop(consumer)
            except Exception as exc:  # Kafka or a store down: start over after a pause
                retry = backoff.failed()
                logger.warning("user-events erasure: %r; retrying in %.1fs", exc, retry)
                await wait_or_stop(self._stopping, retry)
            finally:
                with contextlib.suppress(Exception):
                    await consumer.stop()

    async def _erase_loop(self, consumer: AIOKafkaConsumer) -> None:
        consumer.subscribe([self._source.topic])
        while not self._stopping.is_set():
            batches = await consumer.getmany(timeout_ms=500, max_records=1)
            for partition, records in batches.items():
                for record in records:
                    try:
                        event = parse_user_event(record.value)
                    except MalformedEvent as exc:
                        logger.warning("skipping a malformed user event: %s", exc)
                    else:
                        await self._eraser.erase(event.user_id)
                    # Only after the erasure: a crash before this redelivers the event.
                    await consumer.commit({partition: record.offset + 1})
