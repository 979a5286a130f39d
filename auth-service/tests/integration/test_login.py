"""POST /auth/login: JSON and OAuth2 form, same 401 for unknown user and wrong password."""

from collections.abc import AsyncIterator

import httpx
import jwt
import pytest
from prometheus_client import REGISTRY
from support import PASSWORD, Register, unique_name

FORM = "application/x-www-form-urlencoded"


async def test_json_login_gives_token_pair(client: httpx.AsyncClient, register: Register) -> None:
    user = await register()
    response = await client.post(
        "/auth/login", json={"username": user["username"], "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "EdDSA" and header["kid"]
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == user["id"]
    assert claims["username"] == user["username"]
    assert claims["token_type"] == "access"
    assert claims["iss"] == "chat-auth" and claims["aud"] == "chat-backend"
    assert claims["exp"] - claims["iat"] == 900
    assert claims["jti"]


async def test_form_login_as_swagger_sends_it(
    client: httpx.AsyncClient, register: Register
) -> None:
    user = await register()
    response = await client.post(
        "/auth/login",
        data={"grant_type": "password", "username": user["username"].upper(), "password": PASSWORD},
    )
    assert response.status_code == 200
    me = await client.get(
        "/users/me", headers={"Authorization": f"Bearer {response.json()['access_token']}"}
    )
    assert me.json()["id"] == user["id"]


async def test_unknown_user_and_wrong_password_look_the_same(
    client: httpx.AsyncClient, register: Register
) -> None:
    user = await register()
    wrong = await client.post(
        "/auth/login", json={"username": user["username"], "password": "wrong password"}
    )
    unknown = await client.post(
        "/auth/login", json={"username": unique_name("ghost"), "password": "wrong password"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "Incorrect username or password"}
    assert wrong.headers["www-authenticate"] == unknown.headers["www-authenticate"] == "Bearer"


def _verifications() -> dict[str, float]:
    return {
        account: REGISTRY.get_sample_value(
            "auth_password_verifications_total", {"account": account}
        )
        or 0.0
        for account in ("known", "unknown")
    }


async def test_unknown_user_and_wrong_password_cost_one_verification_each(
    client: httpx.AsyncClient, register: Register
) -> None:
    # The same Argon2 work either way (the unknown user's against a dummy hash made with
    # the same parameters), so the answer's timing cannot tell them apart.
    user = await register()
    before = _verifications()
    wrong = await client.post(
        "/auth/login", json={"username": user["username"], "password": "wrong password"}
    )
    middle = _verifications()
    unknown = await client.post(
        "/auth/login", json={"username": unique_name("ghost"), "password": "wrong password"}
    )
    after = _verifications()
    assert wrong.status_code == unknown.status_code == 401
    assert middle["known"] - before["known"] == 1 and middle["unknown"] == before["unknown"]
    assert after["unknown"] - middle["unknown"] == 1 and after["known"] == middle["known"]


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b'{"username": "someone"}', "application/json", 422),
        (b"{broken", "application/json", 422),
        (b"username=a&password=b&grant_type=client_credentials", FORM, 422),
        (b"username=a", FORM, 422),
        (b"username=a&password=b", "text/plain", 415),
        (b'{"username": "a", "password": "' + b"p" * 200 + b'"}', "application/json", 422),
        (b"username=a&password=" + b"p" * 9000, FORM, 413),
    ],
)
async def test_bad_login_bodies(
    client: httpx.AsyncClient, content: bytes, content_type: str, status: int
) -> None:
    response = await client.post(
        "/auth/login", content=content, headers={"Content-Type": content_type}
    )
    assert response.status_code == status
    assert response.json()["detail"]


async def test_openapi_has_password_flow_and_both_bodies(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    flows = schema["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]
    assert flows["password"]["tokenUrl"] == "/auth/login"
    content = schema["paths"]["/auth/login"]["post"]["requestBody"]["content"]
    assert set(content) == {"application/json", "application/x-www-form-urlencoded"}
    assert schema["paths"]["/users/me"]["get"]["security"] == [{"OAuth2PasswordBearer": []}]


async def test_streamed_login_body_is_cut_off_at_8_kib(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"username=a&password="
        for _ in range(16):  # 16 KiB: over the login's 8 KiB, under the app-wide limit
            yield b"p" * 1024

    # A generator goes out chunked: no Content-Length to check, the cap applies as it streams.
    response = await client.post("/auth/login", content=chunks(), headers={"Content-Type": FORM})
    assert response.status_code == 413
