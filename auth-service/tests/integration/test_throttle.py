"""429 limits on the real Postgres: failed logins per (username, address) and per address,
registrations per address, shared by every replica."""

import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from support import PASSWORD, make_settings, unique_name

from auth_service.main import create_app

LIMITS = {
    "LOGIN_FAILURES_PER_USER_ADDRESS": 3,
    "LOGIN_FAILURES_PER_ADDRESS": 6,
    "REGISTRATIONS_PER_ADDRESS": 4,
    "RATE_LIMIT_WINDOW_SECONDS": 3600,
    # Each test comes from addresses of its own (TEST-NET-style randoms), so tests and
    # repeated runs never share a counter.
    "TRUST_X_FORWARDED_FOR": True,
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
