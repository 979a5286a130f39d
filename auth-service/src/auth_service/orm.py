"""Tables of the auth service (the schema itself is created by the Alembic migrations)."""

import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from chat_common.contract.usernames import USERNAME_PATTERN

# Stable constraint names, so later migrations can refer to them by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UserAccount(Base):
    """A user. `user` is reserved in SQL, hence `user_account`."""

    __tablename__ = "user_account"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # Collation "C": lower(username) then sorts bytewise and its index serves prefix LIKE.
    username: Mapped[str] = mapped_column(String(32, collation="C"))
    display_name: Mapped[str | None] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # The last logout-all: access tokens issued before it mint no Firebase token.
    sessions_revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(text(f"username ~ '{USERNAME_PATTERN}'"), name="username_format"),
        Index("uq_user_account_username_lower", text("lower(username)"), unique=True),
    )


class RefreshFamily(Base):
    """One login: the chain of refresh tokens rotated from it.

    Its row is what every rotation and every revocation locks (FOR UPDATE), so a
    revocation cannot miss a token that a concurrent rotation is inserting; `expires_at` is
    the session's absolute end, whatever the rotations.
    """

    __tablename__ = "refresh_family"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RefreshToken(Base):
    """One issued refresh token, stored as a hash; a family is one login's rotation chain."""

    __tablename__ = "refresh_token"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    family_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("refresh_family.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RateLimitCounter(Base):
    """Attempts counted under `key` in the fixed window that starts at `window_start`
    (in Postgres so that every replica counts together)."""

    __tablename__ = "rate_limit_counter"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_rate_limit_counter_window_start", "window_start"),)


class LoginBackoff(Base):
    """One account's login attempts across every address (`account` is the lowered
    username, known or not): `failures` unforgiven attempts, and no attempt is let through
    before `next_attempt_at`. Its row is locked by each attempt, so concurrent ones are
    counted one by one."""

    __tablename__ = "login_backoff"

    account: Mapped[str] = mapped_column(Text, primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
