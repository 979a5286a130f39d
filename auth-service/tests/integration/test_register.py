"""POST /auth/register against the real Postgres: created, taken, invalid, concurrent."""

import asyncio
from typing import Any

import httpx
import pytest
from support import PASSWORD, unique_name

from chat_common.contract.times import parse_rfc3339_millis


async def test_register_returns_created_user(client: httpx.AsyncClient) -> None:
    name = unique_name("Reg.")
    response = await client.post(
        "/auth/register", json={"username": name, "password": PASSWORD, "display_name": " Ann "}
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "username", "display_name", "created_at"}
    assert body["username"] == name
    assert body["display_name"] == "Ann"
    assert "password" not in response.text
    # The one time format of the contract (as chat-service and the events write it).
    parse_rfc3339_millis(body["created_at"])


async def test_display_name_is_optional(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/auth/register", json={"username": unique_name(), "password": PASSWORD}
    )
    assert response.status_code == 201
    assert response.json()["display_name"] is None


async def test_username_taken_case_insensitively(client: httpx.AsyncClient) -> None:
    name = unique_name("case")
    first = await client.post("/auth/register", json={"username": name, "password": PASSWORD})
    assert first.status_code == 201
    again = await client.post(
        "/auth/register", json={"username": name.upper(), "password": PASSWORD}
    )
    assert again.status_code == 409
    assert again.json() == {"detail": "Username is already taken"}


INVALID_BODIES: list[tuple[str, Any]] = [
    ("too short username", {"username": "ab", "password": PASSWORD}),
    ("too long username", {"username": "a" * 33, "password": PASSWORD}),
    ("space in username", {"username": "bad name", "password": PASSWORD}),
    ("unicode username", {"username": "jösé123", "password": PASSWORD}),
    ("short password", {"username": "NAME", "password": "short"}),
    ("long password", {"username": "NAME", "password": "p" * 129}),
    ("long display name", {"username": "NAME", "password": PASSWORD, "display_name": "d" * 65}),
    ("blank display name", {"username": "NAME", "password": PASSWORD, "display_name": "  "}),
    ("missing password", {"username": "NAME"}),
    ("wrong type", {"username": 12345, "password": PASSWORD}),
    ("not an object", ["NAME", PASSWORD]),
]


@pytest.mark.parametrize(("case", "body"), INVALID_BODIES, ids=[c for c, _ in INVALID_BODIES])
async def test_invalid_body_is_422_and_creates_nothing(
    client: httpx.AsyncClient, case: str, body: Any
) -> None:
    name = unique_name("inv")
    if isinstance(body, dict) and body.get("username") == "NAME":
        body = {**body, "username": name}
    response = await client.post("/auth/register", json=body)
    assert response.status_code == 422, case
    assert response.json()["detail"], case
    # Nothing was stored: the name is still free.
    retry = await client.post("/auth/register", json={"username": name, "password": PASSWORD})
    assert retry.status_code == 201


async def test_malformed_json_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/auth/register", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422


async def test_concurrent_registration_of_one_name(client: httpx.AsyncClient) -> None:
    name = unique_name("race")
    # Mixed case on purpose: the race is decided by the index on lower(username).
    names = [name if i % 2 else name.upper() for i in range(20)]
    responses = await asyncio.gather(
        *(client.post("/auth/register", json={"username": n, "password": PASSWORD}) for n in names)
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 19
