"""Every query the auth service makes against Postgres, and the one place its errors
become domain errors: Postgres unusable is DatabaseUnavailable (503), a unique-index
violation the error it means (like chat-service's store boundary)."""

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth_service.database import UNAVAILABLE_ERRORS
from auth_service.exceptions import AccountGone, DatabaseUnavailable, UsernameTaken
from auth_service.orm import (
    LoginBackoff,
    RateLimitCounter,
    RefreshFamily,
    RefreshToken,
    UserAccount,
)
from auth_service.user_events import add_sessions_revoked

USERNAME_INDEX = "uq_user_account_username_lower"
# PostgreSQL's SQLSTATE for a refused foreign key.
FOREIGN_KEY_VIOLATION = "23503"

_lowered = func.lower(UserAccount.username)


class AuthRepository:
    """The auth service's store: units of work over Postgres sessions.

    `read()` is a session without a transaction of ours; `transaction()` commits when its
    block ends (rolls back on an error). Both give a `UnitOfWork` holding every query.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @asynccontextmanager
    async def read(self) -> AsyncIterator["UnitOfWork"]:
        try:
            async with self._sessions() as session:
                yield UnitOfWork(session)
        except UNAVAILABLE_ERRORS as exc:
            raise DatabaseUnavailable() from exc

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator["UnitOfWork"]:
        try:
            async with self._sessions.begin() as session:
                yield UnitOfWork(session)
        except UNAVAILABLE_ERRORS as exc:  # the commit's too
            raise DatabaseUnavailable() from exc
        except IntegrityError as exc:
            # Only a user's rows refer to other rows: a foreign key refused means the user
            # was deleted between the read and this write (a login racing DELETE /users/me).
            if getattr(exc.orig, "sqlstate", None) == FOREIGN_KEY_VIOLATION:
                raise AccountGone() from exc
            raise


class UnitOfWork:
    """Every query, on one session (and its transaction, when there is one)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_user(self, user: UserAccount) -> None:
        """Insert a user; UsernameTaken when the unique index on lower(username) refuses."""
        self._session.add(user)
        try:
            await self._session.flush()
        except IntegrityError as exc:
            if USERNAME_INDEX in str(exc.orig):
                raise UsernameTaken() from exc
            raise

    def add_family(self, family: RefreshFamily) -> None:
        self._session.add(family)

    def add_refresh_token(self, token: RefreshToken) -> None:
        self._session.add(token)

    @staticmethod
    def mark_used(token: RefreshToken, now: datetime) -> None:
        """Spend a refresh token (written when the transaction commits)."""
        token.used_at = now

    async def user_by_username(self, username: str) -> UserAccount | None:
        """Case-insensitive lookup (served by the unique index on lower(username))."""
        result = await self._session.scalars(
            select(UserAccount).where(_lowered == username.lower())
        )
        return result.one_or_none()

    async def user_by_id(self, user_id: uuid.UUID) -> UserAccount | None:
        return await self._session.get(UserAccount, user_id)

    async def username_exists(self, username: str) -> bool:
        found = await self._session.scalar(
            select(UserAccount.id).where(_lowered == username.lower())
        )
        return found is not None

    async def search_users(
        self, prefix: str, after: str | None, limit: int
    ) -> Sequence[UserAccount]:
        """Users whose lowered name starts with `prefix`, after `after`, by lowered name."""
        query = select(UserAccount).order_by(_lowered).limit(limit)
        if prefix:
            query = query.where(_lowered.startswith(prefix.lower(), autoescape=True))
        if after is not None:
            query = query.where(_lowered > after)
        return (await self._session.scalars(query)).all()

    async def set_password_hash(self, user_id: uuid.UUID, password_hash: str) -> None:
        await self._session.execute(
            update(UserAccount).where(UserAccount.id == user_id).values(password_hash=password_hash)
        )

    async def family_for_update(self, family_id: uuid.UUID) -> RefreshFamily | None:
        """The login's family row, locked: rotation and revocation both take this lock first, so
        neither can act on a family the other is changing."""
        result = await self._session.scalars(
            select(RefreshFamily).where(RefreshFamily.id == family_id).with_for_update()
        )
        return result.one_or_none()

    async def refresh_token_by_hash(self, token_hash: bytes) -> RefreshToken | None:
        """The stored refresh token (its family's lock, held by the caller, serialises its uses)."""
        result = await self._session.scalars(
            select(RefreshToken).where(RefreshToken.token_hash == token_hash)
        )
        return result.one_or_none()

    async def revoke_family(self, family: RefreshFamily, now: datetime) -> None:
        """Revoke a family whose row the caller holds locked, and mark its tokens."""
        family.revoked_at = now
        await self._session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family.id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def revoke_user_families(self, user_id: uuid.UUID, now: datetime) -> int:
        """Revoke every live family of a user; rows are locked in id order (no deadlock with a
        concurrent logout-all) and each waits for a rotation in progress on it."""
        families = (
            await self._session.scalars(
                select(RefreshFamily)
                .where(RefreshFamily.user_id == user_id, RefreshFamily.revoked_at.is_(None))
                .order_by(RefreshFamily.id)
                .with_for_update()
            )
        ).all()
        for family in families:
            await self.revoke_family(family, now)
        return len(families)

    async def revoke_sessions(self, user_id: uuid.UUID, now: datetime) -> None:
        """Record the logout-all and queue `user.sessions_revoked` (same transaction); a
        deleted account has nothing left to revoke or announce."""
        updated = await self._session.execute(
            update(UserAccount).where(UserAccount.id == user_id).values(sessions_revoked_at=now)
        )
        if updated.rowcount:  # type: ignore[attr-defined]
            await add_sessions_revoked(self._session, user_id, now)

    async def attempt_counts(
        self, keys: Sequence[str], window_starts: Sequence[datetime]
    ) -> dict[tuple[str, datetime], int]:
        """Attempts counted under each key in each of the windows starting at `window_starts`
        (absent: none)."""
        rows = await self._session.execute(
            select(
                RateLimitCounter.key, RateLimitCounter.window_start, RateLimitCounter.hits
            ).where(
                RateLimitCounter.key.in_(keys), RateLimitCounter.window_start.in_(window_starts)
            )
        )
        return {(row.key, row.window_start): row.hits for row in rows}

    async def count_attempt(self, key: str, window_start: datetime) -> int:
        """Add one attempt under `key` in the window (atomic across replicas); the new total."""
        statement = (
            insert(RateLimitCounter)
            .values(key=key, window_start=window_start, hits=1)
            .on_conflict_do_update(
                index_elements=[RateLimitCounter.key, RateLimitCounter.window_start],
                set_={"hits": RateLimitCounter.hits + 1},
            )
            .returning(RateLimitCounter.hits)
        )
        return int((await self._session.execute(statement)).scalar_one())

    async def take_back_attempt(self, key: str, window_start: datetime) -> None:
        """Undo one `count_attempt` under `key` in that window (never below zero)."""
        await self._session.execute(
            update(RateLimitCounter)
            .where(
                RateLimitCounter.key == key,
                RateLimitCounter.window_start == window_start,
                RateLimitCounter.hits > 0,
            )
            .values(hits=RateLimitCounter.hits - 1)
        )

    async def claim_login(
        self, account: str, now: datetime, forget_before: datetime, delay: Callable[[int], float]
    ) -> float | None:
        """Count an attempt at `account` when its backoff allows one now: None, and the next
        attempt waits `delay(failures)` seconds; else the seconds left to wait. Attempts
        before `forget_before` are forgotten. The row lock orders concurrent claims."""
        # Times are each request's own clock: a new row, or one with no wait, must not
        # refuse a concurrent attempt whose clock read a moment earlier.
        await self._session.execute(
            insert(LoginBackoff)
            .values(account=account, failures=0, last_attempt_at=now, next_attempt_at=forget_before)
            .on_conflict_do_nothing(index_elements=[LoginBackoff.account])
        )
        row = (
            await self._session.scalars(
                select(LoginBackoff).where(LoginBackoff.account == account).with_for_update()
            )
        ).one()
        if row.next_attempt_at > now:
            return (row.next_attempt_at - now).total_seconds()
        failures = (0 if row.last_attempt_at < forget_before else row.failures) + 1
        row.failures = failures
        row.last_attempt_at = max(row.last_attempt_at, now)
        wait = delay(failures)
        if wait > 0:
            row.next_attempt_at = now + timedelta(seconds=wait)
        return None

    async def forgive_login(self, account: str) -> None:
        """The password was proven: the account's attempts and backoff are forgotten."""
        await self._session.execute(delete(LoginBackoff).where(LoginBackoff.account == account))

    async def clear_attempts(self, key: str) -> None:
        await self._session.execute(delete(RateLimitCounter).where(RateLimitCounter.key == key))

    async def purge_attempts_before(self, window_start: datetime) -> None:
        await self._session.execute(
            delete(RateLimitCounter).where(RateLimitCounter.window_start < window_start)
        )
        # Backoff rows of that age are forgotten by claim_login anyway.
        await self._session.execute(
            delete(LoginBackoff).where(
                LoginBackoff.last_attempt_at < window_start,
                LoginBackoff.next_attempt_at < window_start,
            )
        )
