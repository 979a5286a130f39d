"""Helpers shared by the auth service's test modules (conftest keeps the fixtures)."""

import asyncio
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import jwt
import pytest
from aiokafka import AIOKafkaConsumer
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pwdlib import PasswordHash

from auth_service.config import Settings
from auth_service.dev_firebase_key import new_key
from auth_service.security import jwk_thumbprint, load_private_key
from auth_validator.testing import forge_token, tamper
from chat_common.contract.events import UserEvent, parse_user_event

PASSWORD = "correct horse battery"
# Tests use their own database so they never touch the running service's data.
TEST_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/chat_test"

# The `register` and `login` fixtures: make a user / log one in, asserting success.
Register = Callable[..., Awaitable[dict[str, Any]]]
Login = Callable[[str], Awaitable[dict[str, Any]]]


class TwoLogins(NamedTuple):
    """Two logins (two refresh families) of one user, the first rotated once."""

    spent: dict[str, Any]  # the first login's tokens; its refresh token is spent
    rotated: dict[str, Any]  # what that rotation returned
    other_device: dict[str, Any]


@asynccontextmanager
async def running(app: FastAPI, base_url: str = "http://auth") -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app, its lifespan entered (the ASGI transport alone skips it)."""
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client


def unique_name(prefix: str = "u") -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    """POST /auth/refresh with this refresh token."""
    return await client.post("/auth/refresh", json={"refresh_token": token})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def delete_me(client: httpx.AsyncClient, token: str, password: str) -> httpx.Response:
    """DELETE /users/me with this access token and password."""
    return await client.request(
        "DELETE", "/users/me", json={"password": password}, headers=bearer(token)
    )


async def next_user_event(consumer: AIOKafkaConsumer, user_id: str) -> UserEvent:
    """The next event about this user on `user-events` (within 20 s), keyed by its id."""

    async def find() -> UserEvent:
        async for record in consumer:
            event = parse_user_event(record.value)
            if str(event.user_id) == user_id:
                assert record.key == user_id.encode()
                return event
        raise AssertionError("consumer stopped")

    return await asyncio.wait_for(find(), 20)


def access_claims(user_id: str, username: str, now: int) -> dict[str, Any]:
    """The claims of a valid access token for this user, issued at `now`."""
    return {
        "sub": user_id,
        "username": username,
        "iat": now,
        "exp": now + 600,
        "iss": "chat-auth",
        "aud": "chat-backend",
        "token_type": "access",
        "jti": uuid.uuid4().hex,
    }


def attack_tokens(
    key_path: Path, user_id: str, username: str, refresh_token: str
) -> dict[str, str]:
    """Every forged or unacceptable token the issue lists, aimed at a real user."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = load_private_key(key_path.read_bytes())
    kid = jwk_thumbprint(key.public_key())
    public_pem = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    now = int(time.time())

    def claims(**overrides: Any) -> dict[str, Any]:
        return {**access_claims(user_id, username, now), **overrides}

    def signed(signing_key: Ed25519PrivateKey = key, **overrides: Any) -> str:
        return jwt.encode(claims(**overrides), signing_key, algorithm="EdDSA", headers={"kid": kid})

    return {
        "alg_none": forge_token({"alg": "none", "kid": kid}, claims(), None),
        "hmac_with_public_key": forge_token({"alg": "HS256", "kid": kid}, claims(), public_pem),
        "expired": signed(iat=now - 3600, exp=now - 600),
        "not_yet_valid": signed(nbf=now + 600),
        "tampered_payload": tamper(signed(), username="admin"),
        "foreign_key_known_kid": signed(Ed25519PrivateKey.generate()),
        "wrong_audience": signed(aud="another-service"),
        "wrong_issuer": signed(iss="evil-issuer"),
        "refresh_as_access": refresh_token,
    }


def valid_token(key_path: Path, user_id: str, username: str) -> str:
    """An access token made outside the service with its key (the control case)."""
    key = load_private_key(key_path.read_bytes())
    claims = access_claims(user_id, username, int(time.time()))
    kid = jwk_thumbprint(key.public_key())
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid})


def with_firebase_key(settings: Settings, directory: Path, **overrides: Any) -> Settings:
    """The settings with a new Firebase service-account key file in `directory`."""
    key, _ = new_key()
    path = directory / "service-account.json"
    path.write_text(json.dumps(key))
    return settings.model_copy(update={"FIREBASE_SERVICE_ACCOUNT_FILE": path, **overrides})


def make_settings(key_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "ENVIRONMENT": "test",
        "DATABASE_URL": TEST_DATABASE_URL,
        "JWT_PRIVATE_KEY_FILE": key_path,
        # The suites register and fail logins by the hundred from one address; the tests of
        # the limits themselves set their own.
        "REGISTRATIONS_PER_ADDRESS": 1_000_000,
        "LOGIN_FAILURES_PER_ADDRESS": 1_000_000,
        "LOGIN_FAILURES_PER_ACCOUNT": 1_000_000,
        "LOGIN_FAILURES_PER_USER_ADDRESS": 1_000_000,
        **overrides,
    }
    return Settings(**values)


class HeldHashing:
    """Makes every hash block until released, counting the threads hashing at once."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.release = threading.Event()
        self.running = 0
        self.most = 0
        self._lock = threading.Lock()
        self.started = threading.Semaphore(0)

        def held(_self: PasswordHash, password: str) -> str:
            with self._lock:
                self.running += 1
                self.most = max(self.most, self.running)
            self.started.release()
            self.release.wait(10)
            with self._lock:
                self.running -= 1
            return f"hash-of-{password}"

        monkeypatch.setattr(PasswordHash, "hash", held)
