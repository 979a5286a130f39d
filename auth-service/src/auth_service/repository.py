"""Every query the auth service makes against Postgres."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.models import RefreshToken, UserAccount

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


async def refresh_token_for_update(session: AsyncSession, token_hash: bytes) -> RefreshToken | None:
    """The stored refresh token, row-locked so two concurrent uses are serialised."""
    result = await session.scalars(
        select(RefreshToken).where(RefreshToken.token_hash == token_hash).with_for_update()
    )
    return result.one_or_none()


async def revoke_family(session: AsyncSession, family_id: uuid.UUID, now: datetime) -> int:
    result = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)
