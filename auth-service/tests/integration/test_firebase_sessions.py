"""Firebase follows the account, on the real Firebase Auth emulator (firebase-tools, started
by `make up`), Firestore emulator, Postgres and Kafka: after logout-all the user's Firebase
tokens are revoked (an earlier sign-in's ID token is refused), after deletion the Firebase
user is gone (its refresh token no longer renews), and both write the session revocation
document firestore.rules checks."""

import asyncio
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import jwt
import pytest
from support import PASSWORD, Login, bearer, delete_me, running, with_firebase_key

from auth_service.config import Settings
from auth_service.dev_firebase_key import PROJECT_ID
from auth_service.main import create_app
from chat_common.contract.documents import SessionRevocationDocument, session_revocation_path
from chat_common.contract.firestore import async_firestore_client

AUTH_EMULATOR = "127.0.0.1:9099"
FIRESTORE_EMULATOR = "127.0.0.1:8080"
# The emulator serves Google's REST paths under its own address, with any API key.
IDENTITY = f"http://{AUTH_EMULATOR}/identitytoolkit.googleapis.com/v1"
SECURE_TOKEN = f"http://{AUTH_EMULATOR}/securetoken.googleapis.com/v1/token?key=local"
WAIT_SECONDS = 20


@pytest.fixture
async def emulator() -> AsyncIterator[httpx.AsyncClient]:
    """A client of the Auth emulator; fails (never skips) when it does not answer."""
    async with httpx.AsyncClient(timeout=5) as client:
        try:
            ready = (await client.get(f"http://{AUTH_EMULATOR}/")).json()
        except httpx.HTTPError as exc:
            pytest.fail(
                f"Firebase Auth emulator at {AUTH_EMULATOR} not reachable (make up): {exc!r}"
            )
        assert ready["authEmulator"]["ready"] is True
        yield client


@pytest.fixture
async def firebase_app(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emulator: httpx.AsyncClient
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with a Firebase key, firebase-admin pointed at the Auth emulator."""
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", AUTH_EMULATOR)
    emulated = with_firebase_key(
        settings,
        tmp_path,
        FIREBASE_AUTH_EMULATOR_HOST=AUTH_EMULATOR,
        FIRESTORE_PROJECT=PROJECT_ID,
        FIRESTORE_EMULATOR_HOST=FIRESTORE_EMULATOR,
    )
    async with running(create_app(emulated)) as client:
        yield client


class Session(NamedTuple):
    """A user logged in to the app and signed in to Firebase with its custom token."""

    user: dict[str, Any]
    tokens: dict[str, Any]
    firebase: dict[str, Any]


@pytest.fixture
async def session(
    firebase_app: httpx.AsyncClient, emulator: httpx.AsyncClient, user: dict[str, Any], login: Login
) -> Session:
    tokens = await login(user["username"])
    signed_in = await firebase_sign_in(firebase_app, emulator, tokens["access_token"])
    assert _claims(signed_in["idToken"])["sub"] == user["id"]
    return Session(user, tokens, signed_in)


async def firebase_sign_in(
    app: httpx.AsyncClient, emulator: httpx.AsyncClient, access_token: str
) -> dict[str, Any]:
    """What a client does: a custom token from the app, exchanged with Firebase Auth."""
    minted = await app.post("/auth/firebase-token", headers=bearer(access_token))
    assert minted.status_code == 200, minted.text
    response = await emulator.post(
        f"{IDENTITY}/accounts:signInWithCustomToken?key=local",
        json={"token": minted.json()["token"], "returnSecureToken": True},
    )
    assert response.status_code == 200, response.text
    signed_in: dict[str, Any] = response.json()
    return signed_in


async def renew(emulator: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    """What the Firebase SDK does every hour: a new ID token for the refresh token."""
    return await emulator.post(
        SECURE_TOKEN, data={"grant_type": "refresh_token", "refresh_token": refresh_token}
    )


async def firebase_user(emulator: httpx.AsyncClient, uid: str) -> dict[str, Any] | None:
    """The Firebase user as an admin sees it (None when there is none)."""
    response = await emulator.post(
        f"{IDENTITY}/projects/{PROJECT_ID}/accounts:lookup",
        json={"localId": [uid]},
        headers={"Authorization": "Bearer owner"},
    )
    assert response.status_code == 200, response.text
    users: list[dict[str, Any]] = response.json().get("users", [])
    return users[0] if users else None


async def lookup_by_id_token(emulator: httpx.AsyncClient, id_token: str) -> httpx.Response:
    """A client call with its ID token, which Firebase Auth refuses once the token is revoked.

    (The emulator's refresh-token grant does not check revocation, unlike production's, so
    the test holds the ID token to it instead.)"""
    return await emulator.post(f"{IDENTITY}/accounts:lookup?key=local", json={"idToken": id_token})


async def revocation(uid: str) -> SessionRevocationDocument | None:
    client = async_firestore_client(PROJECT_ID, FIRESTORE_EMULATOR)
    try:
        snapshot = await client.document(session_revocation_path(uid)).get()
    finally:
        client.close()
    return SessionRevocationDocument.from_firestore(snapshot.to_dict()) if snapshot.exists else None


async def within(seconds: float, condition: Callable[[], Awaitable[bool]]) -> None:
    """Poll `condition()` until true, failing after `seconds`."""
    deadline = time.monotonic() + seconds
    while not await condition():
        assert time.monotonic() < deadline, f"not within {seconds} s"
        await asyncio.sleep(0.2)


async def test_logout_all_ends_the_firebase_session_and_writes_the_revocation(
    firebase_app: httpx.AsyncClient, emulator: httpx.AsyncClient, session: Session
) -> None:
    user, tokens, signed_in = session
    signed_in_at = _claims(signed_in["idToken"])["auth_time"]
    # The control: the sign-in's ID token is accepted while nothing happened.
    assert (await lookup_by_id_token(emulator, signed_in["idToken"])).status_code == 200
    assert await revocation(user["id"]) is None

    # Firebase keeps revocation times in whole seconds and revokes tokens issued *before*
    # that second: let the sign-in's second pass, as it does between real sign-ins and
    # logouts (the rules' document also refuses the very second; see firestore.rules).
    async def next_second() -> bool:
        return math.floor(time.time()) > signed_in_at

    await within(2, next_second)
    response = await firebase_app.post("/auth/logout-all", headers=bearer(tokens["access_token"]))
    assert response.status_code == 204

    async def refused() -> bool:
        return (await lookup_by_id_token(emulator, signed_in["idToken"])).status_code != 200

    await within(WAIT_SECONDS, refused)
    answer = await lookup_by_id_token(emulator, signed_in["idToken"])
    assert answer.status_code == 400
    assert answer.json()["error"]["message"].startswith("TOKEN_EXPIRED")
    valid_since = int((await firebase_user(emulator, user["id"]))["validSince"])
    assert valid_since > signed_in_at
    document = await revocation(user["id"])
    assert document is not None
    # The sign-in predates it: the rules refuse its ID token (auth_time is whole seconds).
    assert signed_in_at <= document.revoked_at_seconds


async def test_deletion_deletes_the_firebase_user(
    firebase_app: httpx.AsyncClient, emulator: httpx.AsyncClient, session: Session
) -> None:
    user, tokens, signed_in = session
    assert await firebase_user(emulator, user["id"]) is not None

    assert (await delete_me(firebase_app, tokens["access_token"], PASSWORD)).status_code == 204

    async def gone() -> bool:
        return await firebase_user(emulator, user["id"]) is None

    await within(WAIT_SECONDS, gone)
    # Neither the refresh token nor the ID token of the deleted user works any more.
    assert (await renew(emulator, signed_in["refreshToken"])).status_code == 400
    assert (await lookup_by_id_token(emulator, signed_in["idToken"])).status_code == 400
    assert await revocation(user["id"]) is not None


def _claims(id_token: str) -> dict[str, Any]:
    # The emulator's ID tokens are unsigned; their claims are what matter here.
    claims: dict[str, Any] = jwt.decode(id_token, options={"verify_signature": False})
    return claims
