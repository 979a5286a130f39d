"""Deleted accounts, from `user-events`: refuse their tokens on every chat-api replica.

The *tail* is a per-replica listener: each replica reads the whole topic (no consumer
group, from the beginning, so scaling rebalances nothing) into a set of deleted user ids,
and `refuse_deleted_users` answers 401 to a token of any of them. An access token
verifies locally until its `exp` (the validator caches verified tokens up to then); this
is what stops it earlier: within the time the event takes to reach the replica (about a
second), and never later than the token's own lifetime (ACCESS_TOKEN_TTL_SECONDS, 15
minutes by default), which bounds the cache. It is (re)started with backoff while Kafka
is down. The erasure of their messages is chat-worker's (`projections.erasure`).
"""

import asyncio
import contextlib
import logging
import uuid

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


class DeletedAccountsTail:
    """Reads every `user.deleted` into `deleted` until `stop`."""

    def __init__(self, source: KafkaSource, deleted: DeletedUsers) -> None:
        self._source = source
        self._topic = source.topic
        self._deleted = deleted
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
                await self._tail(consumer)
            except Exception as exc:  # Kafka down: start over after a pause
                retry = backoff.failed()
                logger.warning("user-events tail: %r; retrying in %.1fs", exc, retry)
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
