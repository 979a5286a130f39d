"""Fixtures over the real servers `make up` runs: Cassandra, Kafka and the auth service.

Nothing is skipped: a server that does not answer within a minute fails the session
with a message naming it. Data uses fresh users and chats, so runs can repeat against
the same long-running servers.
"""

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from support import StartChat, User
from tcp_proxy import TcpProxy

from chat_common.store_access import kafka_client_kwargs
from chat_common.waiting import wait_until_ready
from chat_service.api.app import create_app
from chat_service.config import Settings
from chat_service.store.migrate import migrate
from chat_service.worker.app import create_app as create_worker_app

TEST_KEYSPACE = "chat_test"
# Tiny buckets, so a few seconds of messages cross several bucket boundaries.
TEST_BUCKET_SECONDS = 1
READY_TIMEOUT = 60.0


def settings_for_test(**overrides: Any) -> Settings:
    """Settings of an app under test: the environment's servers, the test keyspace."""
    values: dict[str, Any] = {
        "ENVIRONMENT": "test",
        "CASSANDRA_KEYSPACE": TEST_KEYSPACE,
        "MESSAGE_BUCKET_SECONDS": TEST_BUCKET_SECONDS,
        "OUTBOX_SCAN_INTERVAL_SECONDS": 0.5,
        # A worker's inbox projection reads in a group of the tests' own, new each time, so
        # it starts at the topic's end (the running worker's group counts the service's
        # keyspace; a group kept between runs would first read all the topic got since).
        "INBOX_GROUP_ID": f"chat-inbox-test-{uuid.uuid4().hex[:12]}",
        # Erasing in the test keyspace: never take the running service's partitions.
        "USER_EVENTS_GROUP_ID": "chat-service-erase-test",
    }
    values.update(overrides)
    return Settings(**values)


async def _ready_or_fail(check: Callable[[], Awaitable[object]], what: str) -> None:
    try:
        await wait_until_ready(check, what, timeout=READY_TIMEOUT)
    except TimeoutError as exc:
        pytest.fail(f"{exc} (is `make up` running?)", pytrace=False)


@pytest.fixture(scope="session")
async def cassandra_keyspace() -> str:
    """The test keyspace, created by the service's own migration (waits for Cassandra)."""
    settings = settings_for_test()
    try:
        await migrate(settings, TEST_KEYSPACE, timeout=READY_TIMEOUT)
    except TimeoutError as exc:
        pytest.fail(f"{exc} (is `make up` running?)", pytrace=False)
    return TEST_KEYSPACE


@pytest.fixture(scope="session")
async def kafka_topic() -> str:
    """The `chat-messages` topic on the real Kafka (created with 6 partitions if missing)."""
    settings = settings_for_test()

    async def ensure_topic() -> None:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS, **kafka_client_kwargs(settings)
        )
        await admin.start()
        try:
            if settings.KAFKA_TOPIC not in await admin.list_topics():
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics(
                        [NewTopic(settings.KAFKA_TOPIC, num_partitions=6, replication_factor=1)]
                    )
        finally:
            await admin.close()

    await _ready_or_fail(ensure_topic, f"Kafka at {settings.KAFKA_BOOTSTRAP_SERVERS}")
    return settings.KAFKA_TOPIC


@pytest.fixture(scope="session")
async def auth_http() -> AsyncIterator[httpx.AsyncClient]:
    """A client of the real auth service, once it answers /readyz."""
    settings = settings_for_test()
    async with httpx.AsyncClient(base_url=settings.AUTH_SERVICE_URL, timeout=10) as client:

        async def ready() -> None:
            (await client.get("/readyz")).raise_for_status()

        await _ready_or_fail(ready, f"auth-service at {settings.AUTH_SERVICE_URL}")
        yield client


@pytest.fixture(scope="session")
def make_user(auth_http: httpx.AsyncClient) -> Callable[[], Awaitable[User]]:
    """Register a fresh user on the real auth service and log in."""

    async def create() -> User:
        username = f"ct_{uuid.uuid4().hex[:20]}"
        password = f"pw-{uuid.uuid4().hex}"
        created = await auth_http.post(
            "/auth/register", json={"username": username, "password": password}
        )
        assert created.status_code == 201, created.text
        login = await auth_http.post(
            "/auth/login", json={"username": username, "password": password}
        )
        assert login.status_code == 200, login.text
        return User(uuid.UUID(created.json()["id"]), username, login.json()["access_token"])

    return create


class EventLog:
    """Every `chat-messages` event produced after the session started, by message id."""

    def __init__(self) -> None:
        self.events: dict[str, list[tuple[bytes | None, dict[str, Any]]]] = {}
        self._arrived = asyncio.Condition()

    async def add(self, key: bytes | None, value: bytes) -> None:
        event = json.loads(value)
        async with self._arrived:
            # No message id: a read mark (`chat.read`) is filed under its mark, an opened
            # chat (`chat.created`) under the chat.
            filed = event.get("id") or event.get("up_to") or event["chat_id"]
            self.events.setdefault(filed, []).append((key, event))
            self._arrived.notify_all()

    async def wait_for(self, ids: list[str], timeout: float = 20.0) -> None:
        async def all_there() -> None:
            async with self._arrived:
                await self._arrived.wait_for(lambda: all(i in self.events for i in ids))

        try:
            await asyncio.wait_for(all_there(), timeout)
        except TimeoutError:
            missing = [i for i in ids if i not in self.events]
            pytest.fail(f"{len(missing)} events never reached Kafka: {missing[:5]}")


@pytest.fixture(scope="session")
async def kafka_events(kafka_topic: str) -> AsyncIterator[EventLog]:
    """A consumer reading the topic from its current end, into an EventLog."""
    settings = settings_for_test()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS, **kafka_client_kwargs(settings)
    )
    await consumer.start()
    log = EventLog()
    try:
        partitions: list[int] = []
        admin = AIOKafkaAdminClient(
            bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS, **kafka_client_kwargs(settings)
        )
        await admin.start()
        try:
            for _attempt in range(40):  # a just-created topic takes a moment to show up
                (described,) = await admin.describe_topics([kafka_topic])
                partitions = [p["partition"] for p in described["partitions"]]
                if partitions:
                    break
                await asyncio.sleep(0.5)
        finally:
            await admin.close()
        assert partitions, f"topic {kafka_topic} has no partitions"
        assigned = [TopicPartition(kafka_topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        await consumer.seek_to_end(*assigned)
        for tp in assigned:  # resolve the end offsets now, before any test produces
            await consumer.position(tp)

        async def pump() -> None:
            async for record in consumer:
                await log.add(record.key, record.value)

        task = asyncio.create_task(pump())
        yield log
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        await consumer.stop()


async def running_app(
    settings: Settings, create: Callable[[Settings], FastAPI] = create_app
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """An app (chat-api's, or `create`'s) with its lifespan running, and an in-process
    client of it."""
    app = create(settings)
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://chat") as client:
            yield app, client


@pytest.fixture(scope="session")
async def app_and_client(
    cassandra_keyspace: str, kafka_topic: str, auth_http: httpx.AsyncClient
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async for pair in running_app(settings_for_test()):
        yield pair


@pytest.fixture(scope="session")
def client(app_and_client: tuple[FastAPI, httpx.AsyncClient]) -> httpx.AsyncClient:
    return app_and_client[1]


@pytest.fixture
async def pair(make_user: Callable[[], Awaitable[User]]) -> tuple[User, User]:
    return await make_user(), await make_user()


@pytest.fixture
def start_chat(client: httpx.AsyncClient) -> StartChat:
    """POST /chats as `user` with `other`; the chat body."""

    async def start(user: User, other: User) -> dict[str, Any]:
        response = await client.post(
            "/chats", json={"user_id": str(other.id)}, headers=user.headers
        )
        assert response.status_code in (200, 201), response.text
        chat: dict[str, Any] = response.json()
        return chat

    return start


@pytest.fixture
async def chat(pair: tuple[User, User], start_chat: StartChat) -> dict[str, Any]:
    """The chat of `pair`."""
    return await start_chat(*pair)


@pytest.fixture
def app_factory(cassandra_keyspace: str) -> Callable[..., Any]:
    """Run another app: `async with app_factory(**overrides) as (app, client)`."""

    @contextlib.asynccontextmanager
    async def run(**overrides: Any) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
        async for pair in running_app(settings_for_test(**overrides)):
            yield pair

    return run


@pytest.fixture
def worker_factory(cassandra_keyspace: str, kafka_topic: str) -> Callable[..., Any]:
    """Run a chat-worker: `async with worker_factory(**overrides) as (app, client)`; the
    client reaches its ops routes."""

    @contextlib.asynccontextmanager
    async def run(**overrides: Any) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
        async for pair in running_app(settings_for_test(**overrides), create_worker_app):
            yield pair

    return run


@pytest.fixture(scope="session")
async def worker(
    cassandra_keyspace: str, kafka_topic: str
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """A chat-worker over the test keyspace for the whole session (its sweeper announces
    what the tests' apps did not)."""
    async for pair in running_app(settings_for_test(), create_worker_app):
        yield pair


@pytest.fixture
def settings() -> Settings:
    return settings_for_test()


@pytest.fixture
async def tcp_proxy() -> AsyncIterator[Callable[[str, int], Awaitable[TcpProxy]]]:
    """Make switchable forwarders to a server; all taken down after the test."""
    proxies: list[TcpProxy] = []

    async def make(host: str, port: int) -> TcpProxy:
        proxy = TcpProxy(host, port)
        await proxy.reserve_port()
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        await proxy.down()
