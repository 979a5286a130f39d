"""Which tokens a replica refuses after `user.deleted` / `user.sessions_revoked`, and which
open streams it ends."""

import uuid
from datetime import UTC, datetime

from aiokafka import ConsumerRecord

from auth_validator import Principal
from chat_common.contract.events import UserDeleted, UserSessionsRevoked
from chat_service.domain.sessions import RefusedSessions


def principal(user_id: uuid.UUID, issued_at: float) -> Principal:
    return Principal(user_id, "someone", expires_at=issued_at + 900, issued_at=issued_at)


def record(value: bytes) -> ConsumerRecord:
    return ConsumerRecord("user-events", 0, 0, 0, 0, b"k", value, None, 0, 0, [])


def test_a_logout_all_refuses_tokens_issued_before_it_only() -> None:
    sessions, user = RefusedSessions(), uuid.uuid4()
    sessions.revoke(user, 1000.5)
    assert sessions.refuses(principal(user, 1000.0))  # same second, before: refused
    assert not sessions.refuses(principal(user, 1001.0))  # a login after it
    assert not sessions.refuses(principal(uuid.uuid4(), 10.0))  # someone else


def test_an_older_or_repeated_logout_all_moves_nothing_back() -> None:
    sessions, user = RefusedSessions(), uuid.uuid4()
    sessions.revoke(user, 2000.0)
    sessions.revoke(user, 1500.0)
    assert sessions.refuses(principal(user, 1800.0))


def test_a_deleted_user_is_refused_whatever_the_token() -> None:
    sessions, user = RefusedSessions(), uuid.uuid4()
    sessions.delete(user)
    assert sessions.refuses(principal(user, 9e9))


def test_streams_end_when_their_token_is_refused_and_not_otherwise() -> None:
    sessions, user = RefusedSessions(), uuid.uuid4()
    old, fresh = principal(user, 1000.0), principal(user, 3000.0)
    old_ended, fresh_ended = sessions.watch(old), sessions.watch(fresh)
    sessions.revoke(user, 2000.0)
    assert old_ended.is_set() and not fresh_ended.is_set()
    sessions.unwatch(fresh, fresh_ended)
    sessions.delete(user)
    assert not fresh_ended.is_set()  # given back: nothing holds it any more
    assert sessions.watch(fresh).is_set()  # a stream opened by a refused token ends at once


def test_the_tail_reads_both_events_and_skips_junk() -> None:
    sessions = RefusedSessions()
    gone, revoked = uuid.uuid4(), uuid.uuid4()
    at = datetime(2026, 1, 1, tzinfo=UTC)
    sessions.read(record(UserDeleted(user_id=gone, deleted_at=at).encode()))
    sessions.read(record(UserSessionsRevoked(user_id=revoked, revoked_at=at).encode()))
    sessions.read(record(b"not json"))
    assert sessions.refuses(principal(gone, at.timestamp() + 10))
    assert sessions.refuses(principal(revoked, at.timestamp() - 1))
    assert not sessions.refuses(principal(revoked, at.timestamp()))
