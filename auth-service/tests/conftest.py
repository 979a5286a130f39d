"""Fixtures: a migrated test database, a signing key, and the app driven in-process."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from support import PASSWORD, Login, Register, TwoLogins, make_settings, refresh, unique_name

from auth_service.config import Settings
from auth_service.keygen import generate
from auth_service.main import create_app
from auth_service.migrate import migrate
from chat_common.contract.events import USER_EVENTS_TOPIC
from chat_common.store_access import KafkaAccessSettings, kafka_client_kwargs

POSTGRES_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
KAFKA = "127.0.0.1:9092"


@pytest.fixture(scope="session")
def key_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "jwt-ed25519.pem"
    generate(path)
    return path


@pytest.fixture(scope="session")
async def postgres() -> None:
    """Fail loudly (never skip) when PostgreSQL does not come up within 60 s."""
    last: BaseException | None = None
    for _ in range(60):
        try:
            connection = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=2)
            await connection.close()
            return
        except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
            last = exc
            await asyncio.sleep(1)
    pytest.fail(f"PostgreSQL at 127.0.0.1:5432 not reachable after 60 s (run `make up`): {last!r}")


@pytest.fixture(scope="session")
async def settings(postgres: None, key_path: Path) -> Settings:
    settings = make_settings(key_path)
    await migrate(settings)
    return settings


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with LifespanManager(app):
        yield app


@pytest.fixture(scope="session")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://auth") as client:
        yield client


@pytest.fixture
def register(client: httpx.AsyncClient) -> Register:
    async def register(username: str | None = None, **extra: Any) -> dict[str, Any]:
        body = {"username": username or unique_name(), "password": PASSWORD, **extra}
        response = await client.post("/auth/register", json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    return register


@pytest.fixture
def login(client: httpx.AsyncClient) -> Login:
    async def login(username: str) -> dict[str, Any]:
        response = await client.post(
            "/auth/login", json={"username": username, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        tokens: dict[str, Any] = response.json()
        return tokens

    return login


@pytest.fixture
async def user(register: Register) -> dict[str, Any]:
    """A newly registered user (the body of its 201)."""
    return await register()


@pytest.fixture
async def tokens(user: dict[str, Any], login: Login) -> dict[str, Any]:
    """The tokens of one login of `user`."""
    return await login(user["username"])


@pytest.fixture
async def two_logins(
    client: httpx.AsyncClient, user: dict[str, Any], tokens: dict[str, Any], login: Login
) -> TwoLogins:
    other_device = await login(user["username"])
    response = await refresh(client, tokens["refresh_token"])
    assert response.status_code == 200, response.text
    return TwoLogins(tokens, response.json(), other_device)


@pytest.fixture
async def user_events() -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer of `user-events` from its current end."""
    # Without a group, start() waits for the topic's metadata and assigns every partition.
    consumer = AIOKafkaConsumer(
        USER_EVENTS_TOPIC, bootstrap_servers=KAFKA, **kafka_client_kwargs(KafkaAccessSettings())
    )
    await consumer.start()
    try:
        assigned = consumer.assignment()
        assert assigned, f"topic {USER_EVENTS_TOPIC} has no partitions (run `make up`)"
        await consumer.seek_to_end(*assigned)
        for tp in assigned:
            await consumer.position(tp)
        yield consumer
    finally:
        await consumer.stop()
