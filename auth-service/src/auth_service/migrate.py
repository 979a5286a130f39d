"""Command that prepares Postgres: `python -m auth_service.migrate`.

Waits (bounded) for the server, creates the database if missing, then applies the Alembic
migrations up to head. Run before the service starts, never from the service itself.
"""

import argparse
import asyncio
import logging
from importlib.resources import files

import sqlalchemy.exc
from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine

from auth_service.config import DatabaseSettings
from auth_service.database import create_engine, ping
from chat_common.logs import configure_logging
from chat_common.store_access import asyncpg_connect_kwargs
from chat_common.waiting import wait_until_ready

logger = logging.getLogger(__name__)

# Serialises concurrent migration runs against the same database.
MIGRATION_LOCK_KEY = 0x61757468  # "auth"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("auth_service") / "migrations"))
    return config


async def create_database_if_missing(url: str, settings: DatabaseSettings) -> None:
    """CREATE DATABASE for the URL's database unless it exists (connects to `postgres`)."""
    target = make_url(url)
    name = target.database
    if not name:
        raise ValueError("DATABASE_URL names no database")
    admin = create_async_engine(
        target.set(database="postgres"),
        isolation_level="AUTOCOMMIT",
        connect_args={
            "timeout": settings.DATABASE_CONNECT_TIMEOUT_SECONDS,
            **asyncpg_connect_kwargs(settings),
        },
    )
    try:
        await wait_until_ready(lambda: ping(admin), "PostgreSQL", settings.DATABASE_WAIT_SECONDS)
        async with admin.connect() as connection:
            exists = await connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if exists:
                return
            quoted = connection.dialect.identifier_preparer.quote(name)
            try:
                # An identifier cannot be a bound parameter; it is quoted by the dialect.
                await connection.execute(text(f"CREATE DATABASE {quoted}"))
                logger.info("created database %s", name)
            except sqlalchemy.exc.ProgrammingError as exc:
                if "already exists" not in str(exc):
                    raise
    finally:
        await admin.dispose()


def _run(connection: Connection, config: Config, revision: str, downgrade: bool) -> None:
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    config.attributes["connection"] = connection
    if downgrade:
        command.downgrade(config, revision)
    else:
        command.upgrade(config, revision)


async def migrate(
    settings: DatabaseSettings,
    url: str | None = None,
    revision: str = "head",
    downgrade: bool = False,
) -> None:
    """Wait for Postgres, create the database if needed, move the schema to `revision`."""
    url = url or settings.DATABASE_URL
    await create_database_if_missing(url, settings)
    engine = create_engine(settings, url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run, alembic_config(), revision, downgrade)
    finally:
        await engine.dispose()
    logger.info("database %s is at revision %s", make_url(url).database, revision)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m auth_service.migrate", description="Bring the auth schema up to date."
    )
    parser.add_argument("--downgrade", metavar="REVISION", help="downgrade to REVISION instead")
    args = parser.parse_args(argv)
    settings = DatabaseSettings()
    configure_logging("auth-service-migrate", settings.LOG_LEVEL)
    if args.downgrade:
        asyncio.run(migrate(settings, revision=args.downgrade, downgrade=True))
    else:
        asyncio.run(migrate(settings))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
