"""429 limits on the real Postgres: login attempts per (username, address) and per address,
counted before any Argon2 work however many arrive at once, the per-account backoff across
addresses, registrations per address, shared by every replica."""

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from prometheus_client import REGISTRY
from support import PASSWORD, make_settings, unique_name

from auth_service.exceptions import TooManyAttempts
from auth_service.main import create_app
from auth_service.service import AuthService
from auth_service.throttle import Throttle

LIMITS = {
    "LOGIN_FAILURES_PER_USER_ADDRESS": 3,
    "LOGIN_FAILURES_PER_ADDRESS": 6,
    "LOGIN_FAILURES_PER_ACCOUNT": 8,
    "REGISTRATIONS_PER_ADDRESS": 4,
    "RATE_LIMIT_WINDOW_SECONDS": 3600,
    # Each test comes from addresses of its own (TEST-NET-style randoms), so tests and
    # repeated runs never share a counter.
    "TRUSTED_PROXIES": "127.0.0.1/32",
}


def new_address() -> str:
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


@pytest.fixture(scope="module")
async def replicas(settings: Any, key_path: Path) -> AsyncIterator[list[httpx.AsyncClient]]:
    """Two app instances (replicas) over the same database."""
    clients = []
    managers = []
    for name in ("a", "b"):
        app = create_app(make_settings(key_path, **LIMITS))
        manager = LifespanManager(app)
        await manager.__aenter__()
        managers.append(manager)
        transport = httpx.ASGITransport(app=app)
        clients.append(httpx.AsyncClient(transport=transport, base_url=f"http://auth-{name}"))
    try:
        yield clients
    finally:
        for client in clients:
            await client.aclose()
        for manager in reversed(managers):
            await manager.__aexit__(None, None, None)


async def register(client: httpx.AsyncClient, address: str) -> httpx.Response:
    body = {"username": unique_name(), "password": PASSWORD}
    return await client.post("/auth/register", json=body, headers={"X-Forwarded-For": address})


async def login(
    client: httpx.AsyncClient, username: str, password: str, address: str
) -> httpx.Response:
    return await client.post(
        "/auth/login",
        json={"username": username, "password": password},
        headers={"X-Forwarded-For": address},
    )


async def wrong_passwords(
    client: httpx.AsyncClient, username: str, address: str, times: int
) -> None:
    """`times` logins with a wrong password, each still answered 401 (not yet throttled)."""
    for _ in range(times):
        assert (await login(client, username, "wrong password", address)).status_code == 401


@pytest.fixture
async def username(replicas: list[httpx.AsyncClient]) -> str:
    """A user registered through the first replica, from an address of its own."""
    name: str = (await register(replicas[0], new_address())).json()["username"]
    return name


def assert_throttled(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert 1 <= int(response.headers["Retry-After"]) <= 3600


async def test_failed_logins_per_username_and_address(
    replicas: list[httpx.AsyncClient], username: str
) -> None:
    client, address = replicas[0], new_address()
    await wrong_passwords(client, username, address, 3)
    assert_throttled(await login(client, username, "wrong password", address))
    # Even the right password waits out the window: that is what stops the guessing.
    assert_throttled(await login(client, username, PASSWORD, address))
    # Case does not give a fresh counter; another address does.
    assert_throttled(await login(client, username.upper(), PASSWORD, address))
    assert (await login(client, username, PASSWORD, new_address())).status_code == 200


async def test_a_successful_login_forgives_earlier_typos(
    replicas: list[httpx.AsyncClient], username: str
) -> None:
    client, address = replicas[0], new_address()
    await wrong_passwords(client, username, address, 2)
    assert (await login(client, username, PASSWORD, address)).status_code == 200
    await wrong_passwords(client, username, address, 2)
    assert (await login(client, username, PASSWORD, address)).status_code == 200


async def test_failed_logins_per_address_across_usernames(
    replicas: list[httpx.AsyncClient],
) -> None:
    client = replicas[0]
    address = new_address()
    for _ in range(6):  # one guess each at many usernames
        response = await login(client, unique_name("ghost"), "wrong password", address)
        assert response.status_code == 401
    assert_throttled(await login(client, unique_name("ghost"), "wrong password", address))


async def test_registrations_per_address(replicas: list[httpx.AsyncClient]) -> None:
    client = replicas[0]
    address = new_address()
    for _ in range(4):
        assert (await register(client, address)).status_code == 201
    assert_throttled(await register(client, address))
    assert (await register(client, new_address())).status_code == 201


async def test_replicas_share_the_counters(
    replicas: list[httpx.AsyncClient], username: str
) -> None:
    a, b = replicas
    address = new_address()
    await wrong_passwords(a, username, address, 1)
    await wrong_passwords(b, username, address, 1)
    await wrong_passwords(a, username, address, 1)
    assert_throttled(await login(b, username, PASSWORD, address))


async def test_wrong_passwords_on_deletion_count_as_failed_logins(
    replicas: list[httpx.AsyncClient], username: str
) -> None:
    # A stolen access token must not give a faster way to guess the password.
    client, address = replicas[0], new_address()
    token = (await login(client, username, PASSWORD, address)).json()["access_token"]

    async def delete_me(password: str) -> httpx.Response:
        return await client.request(
            "DELETE",
            "/users/me",
            json={"password": password},
            headers={"Authorization": f"Bearer {token}", "X-Forwarded-For": address},
        )

    await wrong_passwords(client, username, address, 2)
    assert (await delete_me("wrong password")).status_code == 401
    assert_throttled(await delete_me(PASSWORD))
    assert_throttled(await login(client, username, PASSWORD, address))
    # Throttled, not deleted: the account still logs in from elsewhere.
    assert (await login(client, username, PASSWORD, new_address())).status_code == 200


def verifications() -> float:
    """Argon2 verifications against a known account's hash, so far (the issue's metric)."""
    value = REGISTRY.get_sample_value("auth_password_verifications_total", {"account": "known"})
    return value or 0.0


async def test_parallel_wrong_passwords_reach_argon2_at_most_the_limit(
    replicas: list[httpx.AsyncClient], username: str
) -> None:
    a, b = replicas
    address = new_address()
    before = verifications()
    # 50 at once, through both replicas: each is counted before its hash, atomically.
    answers = await asyncio.gather(
        *(login(replicas[i % 2], username, "wrong password", address) for i in range(50))
    )
    verified = verifications() - before
    statuses = [answer.status_code for answer in answers]
    assert verified <= LIMITS["LOGIN_FAILURES_PER_USER_ADDRESS"], (verified, statuses)
    assert statuses.count(401) == verified
    assert statuses.count(429) == 50 - verified
    assert (await login(a, username, PASSWORD, address)).status_code == 429
    assert (await login(b, username, PASSWORD, new_address())).status_code == 200


async def test_parallel_wrong_passwords_from_many_addresses_stop_at_the_account_limit(
    replicas: list[httpx.AsyncClient], username: str
) -> None:
    before = verifications()
    answers = await asyncio.gather(
        *(login(replicas[i % 2], username, "wrong password", new_address()) for i in range(50))
    )
    verified = verifications() - before
    statuses = [answer.status_code for answer in answers]
    assert verified <= LIMITS["LOGIN_FAILURES_PER_ACCOUNT"], (verified, statuses)
    assert statuses.count(401) == verified
    refused = [answer for answer in answers if answer.status_code == 429]
    assert len(refused) == 50 - verified
    assert all(int(answer.headers["Retry-After"]) >= 1 for answer in refused)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_the_account_backoff_doubles_and_a_success_resets_it(app: FastAPI) -> None:
    """Driven with a clock of its own on the real database: the free attempts, then one per
    base seconds doubling, from any address; proving the password forgives them."""
    service: AuthService = app.state.auth_service
    settings = make_settings(
        service.settings.JWT_PRIVATE_KEY_FILE,
        LOGIN_FAILURES_PER_ACCOUNT=3,
        LOGIN_BACKOFF_BASE_SECONDS=10,
        LOGIN_BACKOFF_MAX_SECONDS=35,
    )
    clock = Clock()
    throttle = Throttle(service.repository, settings, clock=clock)
    account = unique_name()

    async def refused_for() -> int | None:
        try:
            await throttle.begin_login(account, new_address())
        except TooManyAttempts as exc:
            return int(exc.response_headers()["Retry-After"])
        return None

    assert [await refused_for() for _ in range(3)] == [None, None, None]
    assert await refused_for() == 10
    # After each wait one attempt goes through, and the next wait doubles, up to 35 s.
    for wait, next_wait in ((10, 20), (20, 35), (35, 35)):
        clock.now += timedelta(seconds=wait)
        assert await refused_for() is None
        assert await refused_for() == next_wait
    clock.now += timedelta(seconds=35)
    attempt = await throttle.begin_login(account, new_address())
    await throttle.login_succeeded(attempt)
    assert [await refused_for() for _ in range(3)] == [None, None, None]
