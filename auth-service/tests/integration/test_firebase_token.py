"""POST /auth/firebase-token on the real database: a Firebase custom token for the caller,
verified with the service-account key's public half; 503 without a key, 401 without a
valid bearer token, for a deleted account, or for a token older than the last logout-all
(announced as `user.sessions_revoked` on the real Kafka); 429 over its limit."""

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from aiokafka import AIOKafkaConsumer
from asgi_lifespan import LifespanManager
from firebase_keys import verified_custom_token
from pydantic import SecretStr
from support import (
    PASSWORD,
    Login,
    Register,
    bearer,
    delete_me,
    next_user_event,
    refresh,
    running,
    with_firebase_key,
)

from auth_service.config import Settings
from auth_service.dev_firebase_key import new_key
from auth_service.main import create_app
from chat_common.contract.events import UserSessionsRevoked

FIREBASE_TOKENS_PER_USER = 3
AUTH_EMULATOR = "127.0.0.1:9099"


@pytest.fixture
async def keyed(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with a Firebase service-account key and a small per-user token limit; its
    relay follows logout-all in the local Auth emulator (`make up`), never Google."""
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", AUTH_EMULATOR)
    limited = with_firebase_key(
        settings, tmp_path, FIREBASE_TOKENS_PER_USER=FIREBASE_TOKENS_PER_USER
    )
    async with running(create_app(limited)) as client:
        yield client


async def mint(client: httpx.AsyncClient, access_token: str) -> httpx.Response:
    return await client.post("/auth/firebase-token", headers=bearer(access_token))


def issued_at(access_token: str) -> int:
    return int(jwt.decode(access_token, options={"verify_signature": False})["iat"])


async def test_after_logout_all_the_earlier_token_is_401_and_announced(
    keyed: httpx.AsyncClient, user: dict[str, Any], login: Login, user_events: AIOKafkaConsumer
) -> None:
    earlier = await login(user["username"])
    assert (await mint(keyed, earlier["access_token"])).status_code == 200
    response = await keyed.post("/auth/logout-all", headers=bearer(earlier["access_token"]))
    assert response.status_code == 204

    refused = await mint(keyed, earlier["access_token"])
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    event = await next_user_event(user_events, user["id"])
    assert isinstance(event, UserSessionsRevoked)
    assert event.user_id == uuid.UUID(user["id"])

    # A login after it mints again, once its token's whole-second `iat` is past the
    # revocation (a token of that very second is refused: the safe side).
    later = await login(user["username"])
    deadline = time.monotonic() + 5
    while issued_at(later["access_token"]) < event.revoked_at.timestamp():
        assert time.monotonic() < deadline, "no access token after the revocation's second"
        await asyncio.sleep(0.1)
        rotated = await refresh(keyed, later["refresh_token"])
        assert rotated.status_code == 200, rotated.text
        later = rotated.json()
    assert (await mint(keyed, later["access_token"])).status_code == 200
    assert (await mint(keyed, earlier["access_token"])).status_code == 401


async def test_after_deletion_the_earlier_token_is_401(
    keyed: httpx.AsyncClient, tokens: dict[str, Any]
) -> None:
    assert (await mint(keyed, tokens["access_token"])).status_code == 200
    assert (await delete_me(keyed, tokens["access_token"], PASSWORD)).status_code == 204
    assert (await mint(keyed, tokens["access_token"])).status_code == 401


async def test_over_the_per_user_limit_it_is_429(
    keyed: httpx.AsyncClient, register: Register, login: Login
) -> None:
    tokens = await login((await register())["username"])
    for _ in range(FIREBASE_TOKENS_PER_USER):
        assert (await mint(keyed, tokens["access_token"])).status_code == 200
    refused = await mint(keyed, tokens["access_token"])
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    # Another user is not limited by this one's count.
    other = await login((await register())["username"])
    assert (await mint(keyed, other["access_token"])).status_code == 200


async def test_the_token_is_the_callers_and_verifies(
    settings: Settings, register: Register, login: Login, tmp_path: Path
) -> None:
    key, public_key = new_key()
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps(key))
    keyed = create_app(settings.model_copy(update={"FIREBASE_SERVICE_ACCOUNT_FILE": path}))
    user = await register()
    tokens = await login(user["username"])
    async with running(keyed) as c:
        response = await c.post("/auth/firebase-token", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200, response.text
    body = response.json()
    claims = verified_custom_token(body["token"], public_key, key)
    assert claims["uid"] == user["id"]
    assert body["expires_in"] == claims["exp"] - claims["iat"]


async def test_without_a_key_it_is_503(
    client: httpx.AsyncClient, register: Register, login: Login
) -> None:
    tokens = await login((await register())["username"])
    response = await client.post("/auth/firebase-token", headers=bearer(tokens["access_token"]))
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert response.json() == {"detail": "Firebase sign-in is not configured on this server"}


@pytest.mark.parametrize("headers", [{}, bearer("not-a-token")])
async def test_without_a_valid_bearer_token_it_is_401(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.post("/auth/firebase-token", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_a_bad_key_stops_the_start(settings: Settings) -> None:
    broken = settings.model_copy(update={"FIREBASE_SERVICE_ACCOUNT_JSON": SecretStr("{")})
    with pytest.raises(ValueError, match="FIREBASE_SERVICE_ACCOUNT_JSON is not JSON"):
        async with LifespanManager(create_app(broken)):
            pass
