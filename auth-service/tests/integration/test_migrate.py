"""The migration command: creates the database, upgrades, and is reversible."""

import uuid
from pathlib import Path

import asyncpg
from support import make_settings

from auth_service.migrate import migrate

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


async def tables(database: str) -> set[str]:
    connection = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:5432/{database}")
    try:
        rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {row["tablename"] for row in rows}
    finally:
        await connection.close()


async def test_migrate_creates_database_and_round_trips(postgres: None, key_path: Path) -> None:
    database = f"chat_migrate_{uuid.uuid4().hex[:8]}"
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{database}"
    settings = make_settings(key_path, DATABASE_URL=url)
    try:
        await migrate(settings)
        assert {"user_account", "refresh_token", "alembic_version"} <= await tables(database)
        await migrate(settings)  # idempotent: a second run changes nothing
        await migrate(settings, revision="base", downgrade=True)
        assert await tables(database) == {"alembic_version"}
        await migrate(settings)
        assert {"user_account", "refresh_token"} <= await tables(database)
    finally:
        admin = await asyncpg.connect(ADMIN_DSN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await admin.close()
