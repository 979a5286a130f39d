"""Events about users, through a transactional outbox in Postgres, onto Kafka `user-events`.

A change (an account deleted, a logout-all) inserts its event into `user_event_outbox` in
its own transaction, so the change and its event commit together or not at all. The relay, a task
of the lifespan, publishes the oldest rows (locked with SKIP LOCKED, so replicas share the
work without publishing a row twice at once) and deletes them once Kafka acknowledged
them and Firebase has followed them (`firebase_accounts.follow`: sessions revoked, user
deleted). A row Kafka acknowledged is marked `published_at` and not sent again while it
waits for Firebase, so a Firebase outage neither holds back the event nor repeats it. A
crash between the acknowledgement and that mark publishes the event again: consumers treat
`user.deleted` and `user.sessions_revoked` idempotently, and so does Firebase.
"""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth_service.firebase_accounts import FirebaseAccounts, follow
from chat_common.backoff import Backoff, wait_or_stop
from chat_common.contract.events import (
    USER_EVENTS_TOPIC,
    UserDeleted,
    UserEvent,
    UserSessionsRevoked,
    parse_user_event,
)
from chat_common.store_access import KafkaAccessSettings, kafka_client_kwargs

logger = logging.getLogger(__name__)

# The table of migrations 0003 and 0006 (Core, not ORM: nothing here needs identity or relations).
user_event_outbox = sa.Table(
    "user_event_outbox",
    sa.MetaData(),
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("user_id", sa.Uuid(), nullable=False),
    sa.Column("payload", sa.LargeBinary(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # Set once Kafka acknowledged it (migration 0006); the row stays until Firebase followed.
    sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
)

_PAGE = 100
_MAX_RETRY_SECONDS = 5.0


async def queue_user_event(session: AsyncSession, event: UserEvent, at: datetime) -> None:
    """Queue an event about a user in the caller's transaction."""
    await session.execute(
        sa.insert(user_event_outbox).values(
            id=uuid.uuid4(), user_id=event.user_id, payload=event.encode(), created_at=at
        )
    )


async def add_user_deleted(session: AsyncSession, user_id: uuid.UUID, at: datetime) -> None:
    """Queue `user.deleted` in the caller's transaction."""
    await queue_user_event(session, UserDeleted(user_id=user_id, deleted_at=at), at)


async def add_sessions_revoked(session: AsyncSession, user_id: uuid.UUID, at: datetime) -> None:
    """Queue `user.sessions_revoked` (logout-all) in the caller's transaction."""
    await queue_user_event(session, UserSessionsRevoked(user_id=user_id, revoked_at=at), at)


@dataclass(eq=False)
class UserEventRelay:
    """Publishes the outbox every `interval` seconds, and at once when `wake` is called."""

    sessions: async_sessionmaker[AsyncSession]
    bootstrap_servers: str
    access: KafkaAccessSettings
    interval: float
    topic: str = USER_EVENTS_TOPIC
    # None when Firebase is not configured (no service-account key): nothing to follow.
    firebase: FirebaseAccounts | None = None
    _producer: AIOKafkaProducer | None = field(init=False, default=None)
    _wake: asyncio.Event = field(init=False, default_factory=asyncio.Event)
    _stopping: bool = field(init=False, default=False)

    def wake(self) -> None:
        """A row was just committed: publish it now rather than at the next interval."""
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Until `stop`: publish what is queued; Kafka or Postgres down is retried."""
        backoff = Backoff(self.interval, max(self.interval, _MAX_RETRY_SECONDS))
        try:
            while not self._stopping:
                pause = self.interval
                try:
                    while await self.publish_pending():
                        pass
                    backoff.succeeded()
                except Exception as exc:  # Kafka, Postgres or Firebase down: rows stay queued
                    pause = backoff.failed()
                    logger.warning("user events not published, retrying in %.1fs: %r", pause, exc)
                    await self._drop_producer()
                await wait_or_stop(self._wake, pause)
                self._wake.clear()
        finally:
            await self._drop_producer()

    async def publish_pending(self) -> int:
        """Publish one page of queued events, have Firebase follow them, and delete those
        done; how many. A Firebase failure is raised once the rows Kafka acknowledged are
        marked published (they are not sent again) and the rows Firebase followed deleted."""
        failure: Exception | None = None
        async with self.sessions.begin() as session:
            rows = (
                await session.execute(
                    sa.select(user_event_outbox)
                    .order_by(user_event_outbox.c.created_at)
                    .limit(_PAGE)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            await self._publish(session, [row for row in rows if row.published_at is None])
            done = []
            for row in rows:
                try:
                    if self.firebase is not None:
                        await follow(self.firebase, parse_user_event(row.payload))
                except Exception as exc:  # Firebase down: this row and the later ones wait
                    failure = exc
                    break
                done.append(row.id)
            if done:
                await session.execute(
                    sa.delete(user_event_outbox).where(user_event_outbox.c.id.in_(done))
                )
        if failure is not None:
            raise failure
        logger.info("published %d user events", len(done))
        return len(done)

    async def _publish(self, session: AsyncSession, rows: Sequence[sa.Row[Any]]) -> None:
        """Send the rows to Kafka and mark them published once it acknowledged them all."""
        if not rows:
            return
        producer = await self._started()
        sent = [
            await producer.send(self.topic, row.payload, key=str(row.user_id).encode())
            for row in rows
        ]
        await asyncio.gather(*sent)
        await session.execute(
            sa.update(user_event_outbox)
            .where(user_event_outbox.c.id.in_([row.id for row in rows]))
            .values(published_at=sa.func.now())
        )

    async def _started(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = AIOKafkaProducer(
                bootstrap_servers=self.bootstrap_servers,
                acks="all",
                enable_idempotence=True,
                request_timeout_ms=5000,
                **kafka_client_kwargs(self.access),
            )
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def _drop_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            with contextlib.suppress(Exception):
                await producer.stop()
