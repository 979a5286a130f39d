"""The user-event outbox on the real Postgres and Kafka, with Firebase behind its port: while
Firebase fails the event is on `user-events` once and stays queued for Firebase (nothing
accepted is lost, nothing published twice), and once Firebase answers it is applied there
and gone from the outbox.

A database of its own, so the relays of other tests' apps never take these rows."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from support import TEST_DATABASE_URL, make_settings, next_user_event

from auth_service.database import create_engine, create_session_factory
from auth_service.migrate import migrate
from auth_service.user_events import UserEventRelay, add_sessions_revoked, user_event_outbox
from chat_common.contract.events import UserSessionsRevoked
from chat_common.store_access import KafkaAccessSettings

KAFKA = "127.0.0.1:9092"


class Firebase:
    """The port, failing until told otherwise, recording what reached it."""

    def __init__(self) -> None:
        self.down = True
        self.revoked: list[tuple[uuid.UUID, datetime]] = []

    async def revoke_sessions(self, user_id: uuid.UUID, revoked_at: datetime) -> None:
        if self.down:
            raise ConnectionError("Firebase unreachable")
        self.revoked.append((user_id, revoked_at))

    async def delete_user(self, user_id: uuid.UUID, deleted_at: datetime) -> None:
        raise AssertionError("no deletion here")


@pytest.fixture
async def sessions(
    postgres: None, key_path: Path
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    settings = make_settings(key_path, DATABASE_URL=f"{TEST_DATABASE_URL}_user_events")
    await migrate(settings)
    engine = create_engine(settings)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


async def queued(
    sessions: async_sessionmaker[AsyncSession], user_id: uuid.UUID
) -> list[datetime | None]:
    """The `published_at` of each row queued for the user."""
    async with sessions() as session:
        rows = await session.scalars(
            sa.select(user_event_outbox.c.published_at).where(
                user_event_outbox.c.user_id == user_id
            )
        )
        return list(rows)


async def records_about(consumer: AIOKafkaConsumer, user_id: uuid.UUID) -> int:
    """How many records about the user are on the topic up to its current end."""
    ends = await consumer.end_offsets(list(consumer.assignment()))
    found = 0
    while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
        batches = await consumer.getmany(timeout_ms=1000)
        for records in batches.values():
            found += sum(record.key == str(user_id).encode() for record in records)
    return found


async def test_an_event_waits_for_firebase_then_goes_everywhere(
    sessions: async_sessionmaker[AsyncSession], user_events: AIOKafkaConsumer
) -> None:
    firebase = Firebase()
    relay = UserEventRelay(sessions, KAFKA, KafkaAccessSettings(), 1.0, firebase=firebase)
    user_id, now = uuid.uuid4(), datetime.now(UTC)
    async with sessions.begin() as session:
        await add_sessions_revoked(session, user_id, now)

    try:
        for _ in range(2):  # Firebase down: retried, never lost, published once
            with pytest.raises(ConnectionError):
                await relay.publish_pending()
            [published_at] = await queued(sessions, user_id)
            assert published_at is not None
        event = await next_user_event(user_events, str(user_id))
        assert isinstance(event, UserSessionsRevoked)

        firebase.down = False
        while await relay.publish_pending():
            pass
    finally:
        await relay._drop_producer()
    assert await queued(sessions, user_id) == []
    assert firebase.revoked == [(user_id, event.revoked_at)]
    assert event.revoked_at == now.replace(microsecond=now.microsecond // 1000 * 1000)
    # The retries and the final pass sent nothing more.
    assert await records_about(user_events, user_id) == 0
