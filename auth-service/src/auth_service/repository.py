"""Every query the auth service makes against Postgres."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.orm import RateLimitCounter, RefreshFamily, RefreshToken, UserAccount

_lowered = func.lower(UserAccount.username)


async def user_by_username(session: AsyncSession, username: str) -> UserAccount | None:
    """Case-insensitive lookup (served by the unique index on lower(username))."""
    result = await session.scalars(select(UserAccount).where(_lowered == username.lower()))
    return result.one_or_none()


async def user_by_id(session: AsyncSession, user_id: uuid.UUID) -> UserAccount | None:
    return await session.get(UserAccount, user_id)


async def username_exists(session: AsyncSession, username: str) -> bool:
    found = await session.scalar(select(UserAccount.id).where(_lowered == username.lower()))
    return found is not None


async def search_users(
    session: AsyncSession, prefix: str, after: str | None, limit: int
) -> Sequence[UserAccount]:
    """Users whose lowered name starts with `prefix`, after `after`, by lowered name."""
    query = select(UserAccount).order_by(_lowered).limit(limit)
    if prefix:
        query = query.where(_lowered.startswith(prefix.lower(), autoescape=True))
    if after is not None:
        query = query.where(_lowered > after)
    return (await session.scalars(query)).all()


async def set_password_hash(session: AsyncSession, user_id: uuid.UUID, password_hash: str) -> None:
    await session.execute(
        update(UserAccount).where(UserAccount.id == user_id).values(password_hash=password_hash)
    )


async def family_for_update(session: AsyncSession, family_id: uuid.UUID) -> RefreshFamily | None:
    """The login's family row, locked: rotation and revocation both take this lock first, so
    neither can act on a family the other is changing."""
    result = await session.scalars(
        select(RefreshFamily).where(RefreshFamily.id == family_id).with_for_update()
    )
    return result.one_or_none()


async def refresh_token_by_hash(session: AsyncSession, token_hash: bytes) -> RefreshToken | None:
    """The stored refresh token (its family's lock, held by the caller, serialises its uses)."""
    result = await session.scalars(
        select(RefreshToken).where(RefreshToken.token_hash == token_hash)
    )
    return result.one_or_none()


async def revoke_family(session: AsyncSession, family: RefreshFamily, now: datetime) -> None:
    """Revoke a family whose row the caller holds locked, and mark its tokens."""
    family.revoked_at = now
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def revoke_user_families(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> int:
    """Revoke every live family of a user; rows are locked in id order (no deadlock with a
    concurrent logout-all) and each waits for a rotation in progress on it."""
    families = (
        await session.scalars(
            select(RefreshFamily)
            .where(RefreshFamily.user_id == user_id, RefreshFamily.revoked_at.is_(None))
            .order_by(RefreshFamily.id)
            .with_for_update()
        )
    ).all()
    for family in families:
        await revoke_family(session, family, now)
    return len(families)


async def attempt_counts(
    session: AsyncSession, keys: Sequence[str], window_start: datetime
) -> dict[str, int]:
    """Attempts counted so far under each key in the window starting at `window_start`."""
    rows = await session.execute(
        select(RateLimitCounter.key, RateLimitCounter.hits).where(
            RateLimitCounter.key.in_(keys), RateLimitCounter.window_start == window_start
        )
    )
    return {row.key: row.hits for row in rows}


async def count_attempt(session: AsyncSession, key: str, window_start: datetime) -> int:
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
    return int((await session.execute(statement)).scalar_one())


async def clear_attempts(session: AsyncSession, key: str) -> None:
    await session.execute(delete(RateLimitCounter).where(RateLimitCounter.key == key))


async def purge_attempts_before(session: AsyncSession, window_start: datetime) -> None:
    await session.execute(
        delete(RateLimitCounter).where(RateLimitCounter.window_start < window_start)
    )
