"""DELETE /users/me: on real Postgres and Kafka, the account stops working at once, leaves
/users, and `user.deleted` reaches `user-events` through the Postgres outbox."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from fastapi import FastAPI
from support import PASSWORD, Login, Register, bearer, refresh

from auth_service.exceptions import AccountGone
from auth_service.orm import RefreshFamily
from auth_service.service import AuthService
from chat_common.contract.events import USER_EVENTS_TOPIC, UserDeleted, parse_user_event
from chat_common.store_access import KafkaAccessSettings, kafka_client_kwargs

KAFKA = "127.0.0.1:9092"
# As the local `tests` Kafka user: its credentials come in the environment (infra/run-tests.sh).
ACCESS = kafka_client_kwargs(KafkaAccessSettings())


@pytest.fixture
async def user_events() -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer of `user-events` from its current end."""
    # Without a group, start() waits for the topic's metadata and assigns every partition.
    consumer = AIOKafkaConsumer(USER_EVENTS_TOPIC, bootstrap_servers=KAFKA, **ACCESS)
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


async def _deleted_event(consumer: AIOKafkaConsumer, user_id: str) -> UserDeleted:
    async def find() -> UserDeleted:
        async for record in consumer:
            event = parse_user_event(record.value)
            if str(event.user_id) == user_id:
                assert record.key == user_id.encode()
                return event
        raise AssertionError("consumer stopped")

    return await asyncio.wait_for(find(), 20)


async def delete_me(client: httpx.AsyncClient, token: str, password: str) -> httpx.Response:
    return await client.request(
        "DELETE", "/users/me", json={"password": password}, headers=bearer(token)
    )


async def test_wrong_password_is_401_and_changes_nothing(
    client: httpx.AsyncClient, tokens: dict[str, Any]
) -> None:
    assert (await delete_me(client, tokens["access_token"], "not it")).status_code == 401
    assert (await client.get("/users/me", headers=bearer(tokens["access_token"]))).is_success
    assert (await refresh(client, tokens["refresh_token"])).status_code == 200


async def test_missing_password_is_422_and_no_token_401(
    client: httpx.AsyncClient, tokens: dict[str, Any]
) -> None:
    response = await client.request(
        "DELETE", "/users/me", json={}, headers=bearer(tokens["access_token"])
    )
    assert response.status_code == 422
    response = await client.request("DELETE", "/users/me", json={"password": PASSWORD})
    assert response.status_code == 401
    assert (await client.get("/users/me", headers=bearer(tokens["access_token"]))).is_success


async def test_deleted_account_stops_working_and_is_announced(
    client: httpx.AsyncClient,
    register: Register,
    login: Login,
    user_events: AIOKafkaConsumer,
) -> None:
    user = await register()
    other = await register()
    tokens = await login(user["username"])
    viewer = await login(other["username"])
    response = await delete_me(client, tokens["access_token"], PASSWORD)
    assert response.status_code == 204 and response.content == b""

    event = await _deleted_event(user_events, user["id"])
    assert event.user_id == uuid.UUID(user["id"])
    login_again = await client.post(
        "/auth/login", json={"username": user["username"], "password": PASSWORD}
    )
    assert login_again.status_code == 401
    assert (await refresh(client, tokens["refresh_token"])).status_code == 401
    found = await client.get(
        "/users", params={"q": user["username"]}, headers=bearer(viewer["access_token"])
    )
    assert found.status_code == 200 and found.json()["items"] == []
    gone = await client.get(f"/users/{user['id']}", headers=bearer(viewer["access_token"]))
    assert gone.status_code == 404
    # Deleting again: the account is gone already, the state stays the same.
    assert (await delete_me(client, tokens["access_token"], PASSWORD)).status_code == 401


async def test_a_login_racing_the_deletion_is_401_not_500(
    app: FastAPI, client: httpx.AsyncClient, user: dict[str, Any], tokens: dict[str, Any]
) -> None:
    """The login read the user before the deletion and writes its session after: the
    foreign key refuses the write, and that is the login's 401, not a server error."""
    assert (await delete_me(client, tokens["access_token"], PASSWORD)).status_code == 204
    service: AuthService = app.state.auth_service
    now = datetime.now(UTC)
    family = RefreshFamily(
        id=uuid.uuid4(), user_id=uuid.UUID(user["id"]), created_at=now, expires_at=now
    )
    with pytest.raises(AccountGone) as raised:
        async with service.repository.transaction() as store:
            store.add_family(family)
    assert raised.value.status_code == 401
