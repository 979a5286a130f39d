"""PostgreSQL answers a real asyncpg round trip (the driver the auth service uses)."""

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
async def conn() -> AsyncIterator[asyncpg.Connection]:
    try:
        connection = await asyncpg.connect(DSN, timeout=10)
    except OSError as exc:
        pytest.fail(f"PostgreSQL is not reachable at {DSN} (run `make up`): {exc!r}")
    yield connection
    await connection.close()


async def test_round_trip_through_a_table(conn: asyncpg.Connection) -> None:
    table = f"smoke_{uuid.uuid4().hex[:12]}"
    await conn.execute(f'CREATE TABLE "{table}" (id uuid PRIMARY KEY, body text NOT NULL)')
    try:
        rows = [(uuid.uuid4(), f"row {i}") for i in range(3)]
        await conn.executemany(f'INSERT INTO "{table}" (id, body) VALUES ($1, $2)', rows)
        found = await conn.fetch(f'SELECT id, body FROM "{table}" ORDER BY body')
        assert [(r["id"], r["body"]) for r in found] == sorted(rows, key=lambda r: r[1])
    finally:
        await conn.execute(f'DROP TABLE "{table}"')


async def test_unique_violation_is_reported(conn: asyncpg.Connection) -> None:
    table = f"smoke_{uuid.uuid4().hex[:12]}"
    await conn.execute(f'CREATE TEMP TABLE "{table}" (name text UNIQUE)')
    await conn.execute(f'INSERT INTO "{table}" VALUES ($1)', "alice")
    with pytest.raises(asyncpg.UniqueViolationError):
        await conn.execute(f'INSERT INTO "{table}" VALUES ($1)', "alice")
