"""Authentication limits and logout, over HTTP on the running system (`make up`): login
throttled after repeated failures, logout kills the refresh token (and its rotations),
logout-all ends every login of the caller.

`make up` keeps the per-(username, address) failed-login limit at its default (5 per
15 minutes); only the per-address limits are raised for the suites that share 127.0.0.1.
"""

import uuid
from typing import Any

import httpx

PASSWORD = "e2e-limits-password"
PER_USER_ADDRESS_FAILURES = 5  # auth-service's default LOGIN_FAILURES_PER_USER_ADDRESS


async def new_user(http: httpx.AsyncClient, urls: Any) -> str:
    username = f"lim{uuid.uuid4().hex[:10]}"
    response = await http.post(
        f"{urls.auth}/auth/register", json={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 201, response.text
    return username


async def login(http: httpx.AsyncClient, urls: Any, username: str, password: str) -> httpx.Response:
    return await http.post(
        f"{urls.auth}/auth/login", json={"username": username, "password": password}
    )


async def refresh(http: httpx.AsyncClient, urls: Any, token: str) -> httpx.Response:
    return await http.post(f"{urls.auth}/auth/refresh", json={"refresh_token": token})


async def test_login_is_throttled_after_repeated_failures(
    http: httpx.AsyncClient, urls: Any
) -> None:
    username = await new_user(http, urls)
    for attempt in range(PER_USER_ADDRESS_FAILURES):
        response = await login(http, urls, username, "not the password")
        assert response.status_code == 401, (attempt, response.text)
    throttled = await login(http, urls, username, "not the password")
    assert throttled.status_code == 429, throttled.text
    assert int(throttled.headers["Retry-After"]) >= 1
    # The right password is refused too until the window ends: guessing gains nothing.
    assert (await login(http, urls, username, PASSWORD)).status_code == 429
    # Other users from the same address are not locked out by it.
    other = await new_user(http, urls)
    assert (await login(http, urls, other, PASSWORD)).status_code == 200


async def test_logout_kills_the_refresh_token(http: httpx.AsyncClient, urls: Any) -> None:
    username = await new_user(http, urls)
    first = (await login(http, urls, username, PASSWORD)).json()
    rotated = await refresh(http, urls, first["refresh_token"])
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()

    out = await http.post(
        f"{urls.auth}/auth/logout", json={"refresh_token": second["refresh_token"]}
    )
    assert out.status_code == 204, out.text
    assert (await refresh(http, urls, second["refresh_token"])).status_code == 401
    assert (await refresh(http, urls, first["refresh_token"])).status_code == 401
    again = await http.post(
        f"{urls.auth}/auth/logout", json={"refresh_token": second["refresh_token"]}
    )
    assert again.status_code == 401


async def test_logout_all_ends_every_login(http: httpx.AsyncClient, urls: Any) -> None:
    username = await new_user(http, urls)
    sessions = [(await login(http, urls, username, PASSWORD)).json() for _ in range(2)]
    out = await http.post(
        f"{urls.auth}/auth/logout-all",
        headers={"Authorization": f"Bearer {sessions[0]['access_token']}"},
    )
    assert out.status_code == 204, out.text
    for session in sessions:
        assert (await refresh(http, urls, session["refresh_token"])).status_code == 401
