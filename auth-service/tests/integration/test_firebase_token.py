"""POST /auth/firebase-token on the real database: a Firebase custom token for the caller,
verified with the service-account key's public half; 503 without a key, 401 without a
valid bearer token."""

import json
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from firebase_keys import verified_custom_token
from pydantic import SecretStr
from support import Login, Register, bearer, running

from auth_service.config import Settings
from auth_service.dev_firebase_key import new_key
from auth_service.main import create_app


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
