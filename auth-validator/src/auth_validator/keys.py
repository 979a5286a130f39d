"""Verification keys: a static PEM or JWKS document, or a JWKS URL fetched lazily and cached."""

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from auth_validator.errors import InvalidToken, KeysUnavailable, VerificationFailure

logger = logging.getLogger(__name__)

# The only algorithm accepted: the one the auth service signs with. Pinning it is what
# defeats `alg: none` and the HMAC-with-the-public-key confusion.
ALGORITHM = "EdDSA"

# While nothing is cached, retry a failed fetch this often at most (the service is unusable
# until keys arrive, so waiting the whole refresh interval would only prolong the outage).
EMPTY_CACHE_RETRY_SECONDS = 1.0


class KeyStore(Protocol):
    """Gives the public key that should have signed a token with this `kid`."""

    async def key_for(self, kid: str | None) -> Ed25519PublicKey: ...

    async def aclose(self) -> None: ...


def parse_jwks(document: Mapping[str, Any]) -> dict[str, Ed25519PublicKey]:
    """Map kid -> Ed25519 public key for every usable signing key in a JWKS document."""
    entries = document.get("keys")
    if not isinstance(entries, list):
        raise ValueError("JWKS document has no 'keys' list")
    keys: dict[str, Ed25519PublicKey] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        kid = entry.get("kid")
        usable = (
            isinstance(kid, str)
            and kid
            and entry.get("kty") == "OKP"
            and entry.get("crv") == "Ed25519"
            and entry.get("alg", ALGORITHM) == ALGORITHM
            and entry.get("use", "sig") == "sig"
        )
        if not usable:
            logger.warning("ignoring JWKS entry kid=%s: not an Ed25519 signing key", kid)
            continue
        try:
            key = jwt.PyJWK(entry, algorithm=ALGORITHM).key
        except jwt.PyJWTError as exc:
            logger.warning("ignoring JWKS entry kid=%s: %s", kid, exc)
            continue
        if isinstance(key, Ed25519PublicKey):
            keys[str(kid)] = key
    return keys


def load_public_key_pem(pem: str) -> Ed25519PublicKey:
    """Load an Ed25519 public key from PEM; refuse any other key type."""
    key = load_pem_public_key(pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("AUTH_PUBLIC_KEY must be an Ed25519 public key")
    return key


def _same_or_new(known: Ed25519PublicKey | None, fetched: Ed25519PublicKey) -> Ed25519PublicKey:
    if known is not None and known.public_bytes_raw() == fetched.public_bytes_raw():
        return known
    return fetched


class StaticKeyStore:
    """Keys known up front: one PEM key (any kid), or a JWKS document (kid must match)."""

    def __init__(
        self,
        *,
        public_key: Ed25519PublicKey | None = None,
        jwks: Mapping[str, Any] | None = None,
    ) -> None:
        self._single = public_key
        self._by_kid = parse_jwks(jwks) if jwks is not None else {}

    async def key_for(self, kid: str | None) -> Ed25519PublicKey:
        if self._single is not None:
            return self._single
        if isinstance(kid, str) and kid in self._by_kid:
            return self._by_kid[kid]
        raise InvalidToken("unknown signing key id", VerificationFailure.UNKNOWN_KEY)

    async def aclose(self) -> None:
        return None


@dataclass(eq=False)
class JwksKeyStore:
    """Keys from a JWKS URL: fetched on first use, cached, refetched on an unknown kid
    and once the cache is older than `max_age`.

    Fetches happen at most once per `refresh_interval` seconds; a failed fetch keeps the
    keys already cached. `max_age` bounds how long a key withdrawn from the JWKS (say, a
    compromised one) is still trusted.
    """

    url: str
    http_client: httpx.AsyncClient
    refresh_interval: float
    clock: Callable[[], float] = time.monotonic
    max_age: float = 300.0
    fetch_count: int = field(init=False, default=0)
    _keys: dict[str, Ed25519PublicKey] = field(init=False, default_factory=dict)
    _fetched_at: float | None = field(init=False, default=None)
    _last_attempt: float | None = field(init=False, default=None)
    _last_error: str | None = field(init=False, default=None)
    _lock: asyncio.Lock = field(init=False, default_factory=asyncio.Lock)

    async def key_for(self, kid: str | None) -> Ed25519PublicKey:
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("token header has no key id", VerificationFailure.UNKNOWN_KEY)
        key = self._keys.get(kid)
        if key is not None and not self._stale():
            return key
        # One fetch at a time: concurrent requests carrying a new kid share it.
        async with self._lock:
            if (kid not in self._keys or self._stale()) and self._may_fetch():
                await self._fetch()
        key = self._keys.get(kid)
        if key is not None:
            return key
        if not self._keys:
            raise KeysUnavailable(f"no verification keys: {self._last_error or 'none published'}")
        raise InvalidToken("unknown signing key id", VerificationFailure.UNKNOWN_KEY)

    def _stale(self) -> bool:
        return self._fetched_at is not None and self.clock() - self._fetched_at >= self.max_age

    def _may_fetch(self) -> bool:
        if self._last_attempt is None:
            return True
        wait = self.refresh_interval
        if not self._keys:
            wait = min(wait, EMPTY_CACHE_RETRY_SECONDS)
        return self.clock() - self._last_attempt >= wait

    async def _fetch(self) -> None:
        self._last_attempt = self.clock()
        self.fetch_count += 1
        try:
            response = await self.http_client.get(self.url)
            response.raise_for_status()
            keys = parse_jwks(response.json())
        except (httpx.HTTPError, ValueError) as exc:
            self._last_error = f"JWKS fetch from {self.url} failed: {exc!r}"
            logger.warning("%s", self._last_error)
            return
        # Keep the objects of keys that did not change: tokens verified with them stay
        # cached (the token cache trusts an entry only while its key object is current).
        self._keys = {kid: _same_or_new(self._keys.get(kid), key) for kid, key in keys.items()}
        self._fetched_at = self._last_attempt
        self._last_error = None
        logger.info("fetched %d verification key(s) from %s", len(keys), self.url)

    async def aclose(self) -> None:
        return None
