"""The Postgres engine, with bounds that turn an outage into a quick error, not a hang."""

import asyncio

import sqlalchemy.exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from auth_service.config import DatabaseSettings
from chat_common.store_access import asyncpg_connect_kwargs

# Errors that mean "Postgres cannot be used right now" (answered with 503), as opposed to
# errors in our own queries, which are bugs.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.DisconnectionError,
    sqlalchemy.exc.TimeoutError,
    asyncio.TimeoutError,
    OSError,
)


def create_engine(settings: DatabaseSettings, url: str | None = None) -> AsyncEngine:
    """An async engine whose connects and statements are time-bounded."""
    return create_async_engine(
        url or settings.DATABASE_URL,
        pool_size=settings.DATABASE_POOL_SIZE,
        pool_pre_ping=True,
        pool_timeout=settings.DATABASE_CONNECT_TIMEOUT_SECONDS,
        connect_args={
            "timeout": settings.DATABASE_CONNECT_TIMEOUT_SECONDS,
            "command_timeout": settings.DATABASE_COMMAND_TIMEOUT_SECONDS,
            # DATABASE_PASSWORD (from a Secret) and TLS.
            **asyncpg_connect_kwargs(settings),
        },
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(engine: AsyncEngine) -> None:
    """Raise unless Postgres answers a trivial query."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
