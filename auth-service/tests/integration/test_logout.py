"""POST /auth/logout ends one login (every token rotated from it); /auth/logout-all ends all."""

import httpx
import pytest
from support import Login, Register, TwoLogins, bearer, refresh


async def logout(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/auth/logout", json={"refresh_token": token})


async def test_logout_kills_the_token_and_every_token_of_its_login(
    client: httpx.AsyncClient, two_logins: TwoLogins
) -> None:
    first, second, other_device = two_logins

    response = await logout(client, second["refresh_token"])
    assert response.status_code == 204
    assert response.content == b""
    assert (await refresh(client, second["refresh_token"])).status_code == 401
    assert (await refresh(client, first["refresh_token"])).status_code == 401
    # Another login of the same user is untouched.
    assert (await refresh(client, other_device["refresh_token"])).status_code == 200


async def test_a_spent_token_still_logs_its_login_out(
    client: httpx.AsyncClient, two_logins: TwoLogins
) -> None:
    first, second, _ = two_logins
    assert (await logout(client, first["refresh_token"])).status_code == 204
    assert (await refresh(client, second["refresh_token"])).status_code == 401


@pytest.mark.parametrize("kind", ["garbage", "access_token", "tampered", "logged_out"])
async def test_logout_with_an_unknown_or_invalid_token_is_401(
    client: httpx.AsyncClient, register: Register, login: Login, kind: str
) -> None:
    tokens = await login((await register())["username"])
    if kind == "logged_out":
        assert (await logout(client, tokens["refresh_token"])).status_code == 204
    token = {
        "garbage": "not-a-token",
        "access_token": tokens["access_token"],
        "tampered": tokens["refresh_token"][:-4] + "AAAA",
        "logged_out": tokens["refresh_token"],
    }[kind]
    response = await logout(client, token)
    assert response.status_code == 401
    assert response.json() == {"detail": "Refresh token is invalid, expired or revoked"}


async def test_logout_body_is_validated(client: httpx.AsyncClient) -> None:
    assert (await client.post("/auth/logout", json={})).status_code == 422


async def test_logout_all_ends_every_login_of_the_caller_only(
    client: httpx.AsyncClient, register: Register, login: Login
) -> None:
    user = await register()
    someone_else = await login((await register())["username"])
    logins = [await login(user["username"]) for _ in range(3)]
    rotated = (await refresh(client, logins[0]["refresh_token"])).json()

    response = await client.post("/auth/logout-all", headers=bearer(logins[1]["access_token"]))
    assert response.status_code == 204
    for token in [rotated["refresh_token"], *(t["refresh_token"] for t in logins[1:])]:
        assert (await refresh(client, token)).status_code == 401
    assert (await refresh(client, someone_else["refresh_token"])).status_code == 200
    # Logging in again afterwards starts a new, working session.
    fresh = await login(user["username"])
    assert (await refresh(client, fresh["refresh_token"])).status_code == 200


async def test_logout_all_needs_a_bearer_token(client: httpx.AsyncClient) -> None:
    assert (await client.post("/auth/logout-all")).status_code == 401
    bad = await client.post("/auth/logout-all", headers=bearer("not-a-token"))
    assert bad.status_code == 401
