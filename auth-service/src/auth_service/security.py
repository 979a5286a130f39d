"""Password hashing (Argon2id) and token signing (Ed25519 / EdDSA with a kid)."""

import asyncio
import base64
import hashlib
import json
import secrets
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from auth_service.config import Settings
from auth_service.exceptions import HashingBusy
from auth_service.metrics import PASSWORD_VERIFICATIONS
from auth_validator.keys import ALGORITHM
from auth_validator.validator import decode_claims

ACCESS = "access"
REFRESH = "refresh"
REFRESH_CLAIMS = ("exp", "iat", "iss", "aud", "sub", "jti", "fam")

T = TypeVar("T")


class Passwords:
    """Argon2id hashing on its own pool of `max_concurrency` threads.

    The pool, not the default executor (min(32, CPUs + 4) threads whatever the pod's CPU
    limit), bounds the cores and memory hashing takes; a request that cannot get a slot
    within `queue_timeout` seconds is refused with HashingBusy (503) rather than queued
    without end.
    """

    def __init__(
        self,
        time_cost: int,
        memory_cost_kib: int,
        parallelism: int,
        max_concurrency: int = 2,
        queue_timeout: float = 3.0,
    ) -> None:
        hasher = Argon2Hasher(
            time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=parallelism
        )
        self._hash = PasswordHash((hasher,))
        # Verified against when the user does not exist, so an unknown username costs the
        # same Argon2 work as a wrong password and timing does not reveal which it was.
        self._dummy_hash = self._hash.hash(secrets.token_urlsafe(16))
        self._slots = asyncio.Semaphore(max_concurrency)
        self._queue_timeout = queue_timeout
        self._pool = ThreadPoolExecutor(max_concurrency, thread_name_prefix="argon2")

    @classmethod
    def from_settings(cls, settings: Settings) -> "Passwords":
        return cls(
            settings.ARGON2_TIME_COST,
            settings.ARGON2_MEMORY_COST_KIB,
            settings.ARGON2_PARALLELISM,
            settings.ARGON2_MAX_CONCURRENCY,
            settings.ARGON2_QUEUE_TIMEOUT_SECONDS,
        )

    async def _run(self, work: Callable[..., T], *args: str) -> T:
        try:
            async with asyncio.timeout(self._queue_timeout):
                await self._slots.acquire()
        except TimeoutError as exc:
            raise HashingBusy() from exc
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, work, *args)
        finally:
            self._slots.release()

    async def hash(self, password: str) -> str:
        return await self._run(self._hash.hash, password)

    async def verify(self, password: str, stored: str | None) -> tuple[bool, str | None]:
        """(matches, new hash if the stored one uses outdated parameters)."""
        if stored is None:
            await self._run(self._hash.verify, password, self._dummy_hash)
            PASSWORD_VERIFICATIONS.labels("unknown").inc()
            return False, None
        result = await self._run(self._hash.verify_and_update, password, stored)
        PASSWORD_VERIFICATIONS.labels("known").inc()
        return result

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def jwk_thumbprint(public_key: Ed25519PublicKey) -> str:
    """RFC 7638 thumbprint: a kid derived from the key itself, stable across restarts."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def public_jwk(public_key: Ed25519PublicKey) -> dict[str, Any]:
    entry: dict[str, Any] = jwt.algorithms.OKPAlgorithm.to_jwk(public_key, as_dict=True)
    return {**entry, "kid": jwk_thumbprint(public_key), "alg": ALGORITHM, "use": "sig"}


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    key = load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the JWT signing key must be an Ed25519 private key")
    return key


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    key = load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the previous JWT public key must be an Ed25519 public key")
    return key


# Keys whose private half is public (the dev overlay's k8s/overlays/dev/dev-jwt-signing-key.pem,
# which compose also mounts by default), by the RFC 7638 thumbprint of the public key: the
# material is compared, not a file name or a prefix. tests/unit pins this to the file.
PUBLISHED_KEY_THUMBPRINTS = frozenset({"xHOwFfTxkRBhXTCfbBhjFza2RK1bqM4QU8_bZZ6ZBT4"})


def refuse_published_keys(keys: list[Ed25519PublicKey | None]) -> None:
    """Raise if any key is one whose private half is published (to run in production)."""
    for key in keys:
        if key is not None and jwk_thumbprint(key) in PUBLISHED_KEY_THUMBPRINTS:
            raise ValueError(
                "the JWT signing key is the published development key: anyone can forge "
                "tokens with it; generate a key of your own for ENVIRONMENT=prod"
            )


def hash_refresh_token(token: str) -> bytes:
    """Refresh tokens are stored only as this digest (high-entropy input: no salt needed)."""
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class RefreshClaims:
    token_id: uuid.UUID
    family_id: uuid.UUID
    user_id: uuid.UUID


class InvalidRefreshToken(Exception):
    """The refresh token is malformed, forged, expired or of the wrong type."""


class TokenSigner:
    """Signs access and refresh tokens with the current key; publishes current + previous."""

    def __init__(
        self,
        private_key: Ed25519PrivateKey,
        previous_public_key: Ed25519PublicKey | None,
        settings: Settings,
    ) -> None:
        self._private = private_key
        self.kid = jwk_thumbprint(private_key.public_key())
        self._verify_keys = {self.kid: private_key.public_key()}
        if previous_public_key is not None:
            self._verify_keys.setdefault(jwk_thumbprint(previous_public_key), previous_public_key)
        self._settings = settings
        self._checks = settings.token_checks()

    @classmethod
    def from_settings(cls, settings: Settings) -> "TokenSigner":
        if settings.JWT_PRIVATE_KEY is not None:
            pem = settings.JWT_PRIVATE_KEY.get_secret_value().encode()
        else:
            assert settings.JWT_PRIVATE_KEY_FILE is not None  # the settings validator ensures it
            pem = Path(settings.JWT_PRIVATE_KEY_FILE).read_bytes()
        previous = None
        if settings.JWT_PREVIOUS_PUBLIC_KEY_FILE is not None:
            previous = load_public_key(Path(settings.JWT_PREVIOUS_PUBLIC_KEY_FILE).read_bytes())
        private = load_private_key(pem)
        if settings.ENVIRONMENT == "prod":
            refuse_published_keys([private.public_key(), previous])
        return cls(private, previous, settings)

    def jwks(self) -> dict[str, Any]:
        """The public keys that verify tokens (at most two: current, then previous)."""
        return {"keys": [public_jwk(key) for key in self._verify_keys.values()]}

    def _sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self._private, algorithm=ALGORITHM, headers={"kid": self.kid})

    def access_token(self, user_id: uuid.UUID, username: str, now: datetime) -> str:
        ttl = timedelta(seconds=self._settings.ACCESS_TOKEN_TTL_SECONDS)
        return self._sign(
            {
                "sub": str(user_id),
                "username": username,
                "iat": now,
                "exp": now + ttl,
                "iss": self._settings.JWT_ISSUER,
                "aud": self._settings.JWT_AUDIENCE,
                "token_type": ACCESS,
                "jti": uuid.uuid4().hex,
            }
        )

    def refresh_token(
        self,
        user_id: uuid.UUID,
        token_id: uuid.UUID,
        family_id: uuid.UUID,
        now: datetime,
        expires_at: datetime | None = None,
    ) -> str:
        """A refresh token, valid until `expires_at` (default: REFRESH_TOKEN_TTL_SECONDS)."""
        ttl = timedelta(seconds=self._settings.REFRESH_TOKEN_TTL_SECONDS)
        return self._sign(
            {
                "sub": str(user_id),
                "iat": now,
                "exp": expires_at or now + ttl,
                "iss": self._settings.JWT_ISSUER,
                "aud": self._settings.JWT_AUDIENCE,
                "token_type": REFRESH,
                "jti": str(token_id),
                "fam": str(family_id),
            }
        )

    def read_refresh_token(self, token: str) -> RefreshClaims:
        """Check a refresh token's signature and claims (the database has the final say)."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self._verify_keys.get(kid) if isinstance(kid, str) else None
            if key is None:
                raise InvalidRefreshToken("unknown signing key id")
            claims = decode_claims(token, key, self._checks, REFRESH_CLAIMS)
            if claims.get("token_type") != REFRESH:
                raise InvalidRefreshToken("not a refresh token")
            return RefreshClaims(
                token_id=uuid.UUID(claims["jti"]),
                family_id=uuid.UUID(claims["fam"]),
                user_id=uuid.UUID(claims["sub"]),
            )
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise InvalidRefreshToken(str(exc)) from exc
