"""Deleted accounts, from `user-events`: refuse their tokens, erase their messages.

Two consumers run in the lifespan, each (re)started with backoff while Kafka is down:

- the *tail*: every instance reads the whole topic (no group, from the beginning) into a
  set of deleted user ids, and `refuse_deleted_users` answers 401 to a token of any of
  them. An access token verifies locally until its `exp` (the validator caches verified
  tokens up to then); this is what stops it earlier: within the time the event takes to
  reach the instance (about a second), and never later than the token's own lifetime
  (ACCESS_TOKEN_TTL_SECONDS, 15 minutes by default), which bounds the cache.
- the *eraser*: the group USER_EVENTS_GROUP_ID (one instance per partition) erases each
  deleted user's messages (`AccountEraser`) and commits the record's offset only after the
  erasure finished. A crash halfway redelivers the event; erasing is idempotent.
"""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi import Request

from auth_validator.fastapi import CurrentPrincipal
from chat_common.backoff import Backoff, wait_or_stop
from chat_common.contract.events import MalformedEvent, UserDeleted, parse_user_event
from chat_service.domain.errors import CallerRejected
from chat_service.kafka_source import KafkaSource

logger = logging.getLogger(__name__)

_FIRST_RETRY_SECONDS = 0.5
_MAX_RETRY_SECONDS = 5.0


class DeletedUsers:
    """The ids of deleted accounts this instance has read from `user-events`."""

    def __init__(self) -> None:
        self._ids: set[uuid.UUID] = set()

    def add(self, user_id: uuid.UUID) -> None:
        self._ids.add(user_id)

    def __contains__(self, user_id: object) -> bool:
        return user_id in self._ids


async def refuse_deleted_users(request: Request, principal: CurrentPrincipal) -> None:
    """401 for a token of a deleted account (see the module's docstring for the bound)."""
    deleted: DeletedUsers = request.app.state.deleted_users
    if principal.id in deleted:
        raise CallerRejected()


def _event(value: bytes | None) -> UserDeleted | None:
    try:
        return parse_user_event(value)
    except MalformedEvent as exc:
        logger.warning("skipping a malformed user event: %s", exc)
        return None


class DeletedAccountsRunner:
    """Runs the tail and the eraser until `stop`."""

    def __init__(
        self,
        source: KafkaSource,
        deleted: DeletedUsers,
        erase: Callable[[uuid.UUID], Awaitable[int]],
    ) -> None:
        self._source = source
        self._topic = source.topic
        self._deleted = deleted
        self._erase = erase
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        await asyncio.gather(self._retrying(self._tail), self._retrying(self._erase_loop))

    async def _retrying(self, loop: Callable[[AIOKafkaConsumer], Awaitable[None]]) -> None:
        backoff = Backoff(_FIRST_RETRY_SECONDS, _MAX_RETRY_SECONDS)
        while not self._stopping.is_set():
            consumer = self._source.consumer("earliest", grouped=loop == self._erase_loop)
            try:
                await consumer.start()
                backoff.succeeded()
                await loop(consumer)
            except Exception as exc:  # Kafka or a store down: start over after a pause
                retry = backoff.failed()
                logger.warning("user-events %s: %r; retrying in %.1fs", loop.__name__, exc, retry)
                await wait_or_stop(self._stopping, retry)
            finally:
                with contextlib.suppress(Exception):
                    await consumer.stop()

    async def _tail(self, consumer: AIOKafkaConsumer) -> None:
        partitions = await consumer._client.fetch_all_metadata()
        ids = partitions.partitions_for_topic(self._topic)
        if not ids:
            raise RuntimeError(f"topic {self._topic} has no partitions")
        assigned = [TopicPartition(self._topic, p) for p in sorted(ids)]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        while not self._stopping.is_set():
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    event = _event(record.value)
                    if event is not None:
                        self._deleted.add(event.user_id)

    async def _erase_loop(self, consumer: AIOKafkaConsumer) -> None:
        consumer.subscribe([self._topic])
        while not self._stopping.is_set():
            batches = await consumer.getmany(timeout_ms=500, max_records=1)
            for partition, records in batches.items():
                for record in records:
                    event = _event(record.value)
                    if event is not None:
                        self._deleted.add(event.user_id)
                        await self._erase(event.user_id)
                    # Only after the erasure: a crash before this redelivers the event.
                    await consumer.commit({partition: record.offset + 1})
