"""Alembic environment: runs on the connection the migrate command hands over."""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from auth_service.config import DatabaseSettings
from auth_service.database import create_engine
from auth_service.orm import Base

target_metadata = Base.metadata


def run_on(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


async def run_standalone() -> None:
    # Plain `alembic upgrade` (no connection handed over): connect from the settings.
    engine = create_engine(DatabaseSettings())
    async with engine.begin() as connection:
        await connection.run_sync(run_on)
    await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; use auth_service.migrate")

handed_over = context.config.attributes.get("connection")
if isinstance(handed_over, Connection):
    run_on(handed_over)
else:
    asyncio.run(run_standalone())
