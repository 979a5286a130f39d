"""`python -m chat_service.store.migrate`: wait for Cassandra, then create keyspace and tables.

Idempotent (every statement is IF NOT EXISTS or IF EXISTS), so `make up` runs it on every
start. Tables of earlier versions are dropped once their successors exist.
"""

import asyncio
import logging
from datetime import UTC, datetime

from cassandra.cluster import Session

from chat_common.logs import configure_logging
from chat_common.waiting import wait_until_ready
from chat_service.config import Settings, get_settings
from chat_service.store.cassandra import build_cluster
from chat_service.store.schema import (
    ADDED_COLUMNS,
    DROPPED_COLUMNS,
    DROPPED_TABLES,
    OUTBOX_SHARDS,
    TABLES,
    create_keyspace_cql,
    qualify,
)

logger = logging.getLogger(__name__)

# Schema changes wait for agreement and can take far longer than a request.
_DDL_TIMEOUT_SECONDS = 60.0


def _apply(session: Session, keyspace: str, replication_factor: int, datacenter: str = "") -> None:
    session.execute(
        create_keyspace_cql(keyspace, replication_factor, datacenter), timeout=_DDL_TIMEOUT_SECONDS
    )
    session.set_keyspace(keyspace)
    for statement in TABLES:
        session.execute(statement, timeout=_DDL_TIMEOUT_SECONDS)
    # A new outbox starts read from now; an existing watermark is never moved back.
    seed = session.prepare(
        qualify(
            "INSERT INTO {keyspace}.outbox_watermark (shard, swept_to) VALUES (?, ?) IF NOT EXISTS",
            keyspace,
        )
    )
    now = datetime.now(UTC)
    for shard in range(OUTBOX_SHARDS):
        session.execute(seed, (shard, now), timeout=_DDL_TIMEOUT_SECONDS)
    _add_columns(session, keyspace)
    for table in DROPPED_TABLES:
        session.execute(f"DROP TABLE IF EXISTS {table}", timeout=_DDL_TIMEOUT_SECONDS)


def _add_columns(session: Session, keyspace: str) -> None:
    # CQL has no ADD/DROP COLUMN IF [NOT] EXISTS in every supported version: ask the schema.
    known = session.prepare(
        "SELECT column_name FROM system_schema.columns "
        "WHERE keyspace_name = ? AND table_name = ? AND column_name = ?"
    )
    for table, column, cql_type in ADDED_COLUMNS:
        if not session.execute(known, (keyspace, table, column)).one():
            # Names and types come from the constant above, never from input.
            session.execute(
                f"ALTER TABLE {table} ADD {column} {cql_type}", timeout=_DDL_TIMEOUT_SECONDS
            )
    for table, column in DROPPED_COLUMNS:
        if session.execute(known, (keyspace, table, column)).one():
            session.execute(f"ALTER TABLE {table} DROP {column}", timeout=_DDL_TIMEOUT_SECONDS)


def migrate_blocking(settings: Settings, keyspace: str | None = None) -> None:
    """Create the keyspace (settings' or `keyspace`) and every table, if missing."""
    cluster = build_cluster(
        settings.cassandra_contact_points,
        settings.CASSANDRA_PORT,
        connect_timeout=5.0,
        request_timeout=_DDL_TIMEOUT_SECONDS,
        access=settings,
    )
    try:
        session = cluster.connect()
        _apply(
            session,
            keyspace or settings.CASSANDRA_KEYSPACE,
            settings.CASSANDRA_REPLICATION_FACTOR,
            settings.CASSANDRA_LOCAL_DC,
        )
    finally:
        cluster.shutdown()


async def migrate(settings: Settings, keyspace: str | None = None, timeout: float = 120.0) -> None:
    """Wait (bounded) until Cassandra accepts the schema, then apply it."""

    async def attempt() -> None:
        await asyncio.to_thread(migrate_blocking, settings, keyspace)

    await wait_until_ready(attempt, "Cassandra schema migration", timeout=timeout, interval=2.0)


def main() -> None:
    settings = get_settings()
    configure_logging("chat-service-migrate", settings.LOG_LEVEL)
    asyncio.run(migrate(settings))
    logger.info("Cassandra keyspace %s is up to date", settings.CASSANDRA_KEYSPACE)


if __name__ == "__main__":
    main()
