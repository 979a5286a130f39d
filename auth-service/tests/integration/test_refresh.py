"""POST /auth/refresh: rotation on every use, and reuse of a spent token revokes its family."""

import asyncio
from typing import Any

import httpx
import pytest
from support import Login, Register, TwoLogins, bearer, refresh


async def test_refresh_rotates(
    client: httpx.AsyncClient, user: dict[str, Any], tokens: dict[str, Any]
) -> None:
    response = await refresh(client, tokens["refresh_token"])
    assert response.status_code == 200
    second = response.json()
    assert set(second) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert second["refresh_token"] != tokens["refresh_token"]
    me = await client.get("/users/me", headers=bearer(second["access_token"]))
    assert me.json()["id"] == user["id"]
    # The new refresh token works in turn.
    assert (await refresh(client, second["refresh_token"])).status_code == 200


async def test_reuse_revokes_the_whole_family(
    client: httpx.AsyncClient, two_logins: TwoLogins
) -> None:
    # The spent token is the stolen one, replayed after its owner rotated it.
    reused = await refresh(client, two_logins.spent["refresh_token"])
    assert reused.status_code == 401
    assert reused.json() == {"detail": "Refresh token is invalid, expired or revoked"}
    # The family's newest token is revoked too: the thief cannot have kept a live branch.
    assert (await refresh(client, two_logins.rotated["refresh_token"])).status_code == 401
    # Another login (another family) is untouched.
    assert (await refresh(client, two_logins.other_device["refresh_token"])).status_code == 200


@pytest.mark.parametrize("kind", ["access_token", "garbage", "tampered"])
async def test_non_refresh_tokens_are_401(
    client: httpx.AsyncClient, register: Register, login: Login, kind: str
) -> None:
    tokens = await login((await register())["username"])
    token = {
        "access_token": tokens["access_token"],
        "garbage": "not-a-token",
        "tampered": tokens["refresh_token"][:-4] + "AAAA",
    }[kind]
    response = await refresh(client, token)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_refresh_token_of_another_service_key_is_401(
    client: httpx.AsyncClient, register: Register, login: Login
) -> None:
    from auth_validator.testing import tamper

    tokens = await login((await register())["username"])
    forged = tamper(tokens["refresh_token"], sub="00000000-0000-0000-0000-000000000000")
    assert (await refresh(client, forged)).status_code == 401


@pytest.mark.parametrize("body", [{}, {"refresh_token": ""}, {"refresh_token": "x" * 5000}])
async def test_bad_refresh_body_is_422(client: httpx.AsyncClient, body: dict[str, str]) -> None:
    assert (await client.post("/auth/refresh", json=body)).status_code == 422


async def test_concurrent_use_of_one_refresh_token(
    client: httpx.AsyncClient, register: Register, login: Login
) -> None:
    tokens = await login((await register())["username"])
    responses = await asyncio.gather(*(refresh(client, tokens["refresh_token"]) for _ in range(5)))
    codes = sorted(r.status_code for r in responses)
    # The row lock serialises them: one rotation, the rest are reuse of a spent token...
    assert codes == [200, 401, 401, 401, 401]
    winner = next(r for r in responses if r.status_code == 200).json()
    # ...and reuse revokes the family, including the token the winner just received.
    assert (await refresh(client, winner["refresh_token"])).status_code == 401
