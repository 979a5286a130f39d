"""A revocation racing a rotation: the family stays revoked (held at the race point on the
real Postgres), and a session ends at its absolute lifetime whatever the rotations."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from support import TEST_DATABASE_URL, Login, Register, refresh, unique_name

from auth_service.exceptions import RefreshRejected
from auth_service.security import Passwords
from auth_service.service import AuthService
from auth_service.throttle import Throttle
from chat_common.waiting import wait_until_ready

DSN = TEST_DATABASE_URL.replace("postgresql+asyncpg://", "postgresql://")


@pytest.fixture
async def db() -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(DSN)
    try:
        yield connection
    finally:
        await connection.close()


async def blocked_by(db: asyncpg.Connection, blocker: int) -> int:
    """Wait (bounded) until a backend is blocked by backend `blocker`; its pid. Matching
    on the blocking pid keeps other sessions of the database out of the picture."""
    found: list[int] = []

    async def check() -> None:
        pid = await db.fetchval(
            "SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid)) LIMIT 1",
            blocker,
        )
        if pid is None:
            raise LookupError(f"nothing blocked by backend {blocker} yet")
        found.append(pid)

    await wait_until_ready(check, f"a backend blocked by {blocker}", 10, interval=0.02)
    return found[-1]


async def test_reuse_racing_a_rotation_revokes_the_rotated_token(
    client: httpx.AsyncClient, register: Register, login: Login, db: asyncpg.Connection
) -> None:
    user = await register()
    first = (await login(user["username"]))["refresh_token"]
    second = (await refresh(client, first)).json()["refresh_token"]  # `first` is now spent

    # Hold the race point: the rotation of `second` inserts its new token, then waits (its
    # foreign-key check on the user row) while we hold that row; the replay of `first`
    # starts meanwhile and blocks on the rotation's locks.
    holder = await asyncpg.connect(DSN)
    try:
        hold = holder.transaction()
        await hold.start()
        await holder.execute(
            "SELECT 1 FROM user_account WHERE id = $1 FOR UPDATE", uuid.UUID(user["id"])
        )
        rotation = asyncio.create_task(refresh(client, second))
        rotating = await blocked_by(db, holder.get_server_pid())  # at the race point
        replay = asyncio.create_task(refresh(client, first))
        await blocked_by(db, rotating)  # the replay, waiting on the rotation's locks
        await hold.rollback()
    finally:
        await holder.close()
    rotated, replayed = await asyncio.gather(rotation, replay)

    assert rotated.status_code == 200
    assert replayed.status_code == 401
    # The token the rotation handed out belongs to the family the replay revoked.
    assert (await refresh(client, rotated.json()["refresh_token"])).status_code == 401


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def test_a_session_ends_at_its_absolute_lifetime_whatever_the_rotations(
    app: FastAPI, register: Register
) -> None:
    real: AuthService = app.state.auth_service
    user = await register()
    # A 30-day session whose end is 12 hours from now (signatures are checked against the
    # real clock), while each refresh token would live 60 days: only the session's own end
    # can stop it.
    clock = Clock(datetime.now(UTC) - timedelta(days=29, hours=12))
    # No limit in the way, and a refresh token that would outlive the session.
    settings = real.settings.model_copy(
        update={
            "LOGIN_FAILURES_PER_USER_ADDRESS": 1_000_000,
            "LOGIN_FAILURES_PER_ADDRESS": 1_000_000,
            "REGISTRATIONS_PER_ADDRESS": 1_000_000,
            "REFRESH_TOKEN_TTL_SECONDS": 60 * 86400,
            "REFRESH_SESSION_LIFETIME_SECONDS": 30 * 86400,
        }
    )
    service = AuthService(
        real.repository,  # the app's own Postgres sessions
        Passwords(time_cost=1, memory_cost_kib=1024, parallelism=1),
        app.state.signer,
        Throttle(real.repository, settings),
        settings,
        real.relay,
        clock=clock,
    )
    tokens = await service.login(user["username"], "correct horse battery", unique_name("addr"))
    for _ in range(29):  # a rotation a day keeps it alive...
        clock.now += timedelta(days=1)
        tokens = await service.refresh(tokens.refresh_token)
    clock.now += timedelta(days=1)  # ...until 30 days after the login
    with pytest.raises(RefreshRejected):
        await service.refresh(tokens.refresh_token)
