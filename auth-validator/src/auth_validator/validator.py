"""Local verification of access tokens: signature, algorithm, time, issuer, audience, type."""

import base64
import binascii
import functools
import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from auth_validator.errors import InvalidToken, KeysUnavailable, VerificationFailure
from auth_validator.keys import (
    ALGORITHM,
    JwksKeyStore,
    KeyStore,
    StaticKeyStore,
    load_public_key_pem,
)
from auth_validator.metrics import VERIFICATION_FAILURES
from auth_validator.principal import Principal
from auth_validator.settings import ValidatorSettings
from auth_validator.verified import VerifiedToken, VerifiedTokens

ACCESS_TOKEN_TYPE = "access"
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]
# Distinct header segments remembered (one per signing key in practice; bounded so forged
# headers cannot grow it).
HEADER_MEMO_SIZE = 64


def decode_claims(
    token: str, key: Ed25519PublicKey, checks: ValidatorSettings, required: Sequence[str]
) -> dict[str, Any]:
    """The claims of a token signed with `key` (EdDSA only), its time checked with the
    settings' leeway, its issuer and audience the settings' own, every `required` claim
    present; PyJWT's error otherwise. The auth service reads its refresh tokens with it."""
    claims: dict[str, Any] = jwt.decode(
        token,
        key,
        algorithms=[ALGORITHM],
        audience=checks.AUTH_AUDIENCE,
        issuer=checks.AUTH_ISSUER,
        leeway=checks.AUTH_LEEWAY_SECONDS,
        options={"require": list(required)},
    )
    return claims


def _header_fields(segment: str) -> tuple[object, object]:
    """(alg, kid) of a token's first segment; InvalidToken when it is not a JSON object.

    Pure, so memoised per validator: every token a key signs carries the same header
    segment, and PyJWT's get_unverified_header costs a sixth of a full verification.
    """
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise InvalidToken("malformed token", VerificationFailure.MALFORMED) from exc
    if not isinstance(header, dict):
        raise InvalidToken("malformed token", VerificationFailure.MALFORMED)
    return header.get("alg"), header.get("kid")


class TokenValidator:
    """Turns a bearer token into a `Principal`, or says why it cannot.

    Keys come from `jwks` (a JWKS document, for a service verifying its own tokens),
    else `settings.AUTH_PUBLIC_KEY`, else the JWKS URL (fetched lazily with `http_client`,
    or with a client this validator owns and closes).
    """

    def __init__(
        self,
        settings: ValidatorSettings,
        http_client: httpx.AsyncClient | None = None,
        *,
        jwks: Mapping[str, Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._owned_http: httpx.AsyncClient | None = None
        self._verified = (
            VerifiedTokens(settings.AUTH_TOKEN_CACHE_SIZE, wall_clock)
            if settings.AUTH_TOKEN_CACHE_SIZE > 0
            else None
        )
        self._header = functools.lru_cache(maxsize=HEADER_MEMO_SIZE)(_header_fields)
        self.keys: KeyStore
        if jwks is not None:
            self.keys = StaticKeyStore(jwks=jwks)
        elif settings.AUTH_PUBLIC_KEY:
            self.keys = StaticKeyStore(public_key=load_public_key_pem(settings.AUTH_PUBLIC_KEY))
        else:
            if http_client is None:
                http_client = httpx.AsyncClient(timeout=settings.AUTH_JWKS_TIMEOUT_SECONDS)
                self._owned_http = http_client
            self.keys = JwksKeyStore(
                settings.AUTH_JWKS_URL,
                http_client,
                settings.AUTH_JWKS_REFRESH_INTERVAL_SECONDS,
                clock,
                max_age=settings.AUTH_JWKS_MAX_AGE_SECONDS,
            )

    @property
    def cached_tokens(self) -> int:
        """How many verified tokens are remembered (for tests and metrics)."""
        return len(self._verified) if self._verified is not None else 0

    async def verify(self, token: str) -> Principal:
        """Return the token's principal; raise InvalidToken or KeysUnavailable (each
        counted in `auth_token_verification_failures_total` by reason)."""
        try:
            seen = self._verified.get(token) if self._verified is not None else None
            if seen is not None:
                principal = await self._still_trusted(token, seen)
                if principal is not None:
                    return principal
            return await self._verify_fully(token)
        except InvalidToken as exc:
            VERIFICATION_FAILURES.labels(exc.reason.value).inc()
            raise
        except KeysUnavailable:
            VERIFICATION_FAILURES.labels(VerificationFailure.KEYS_UNAVAILABLE.value).inc()
            raise

    async def _still_trusted(self, token: str, seen: VerifiedToken) -> Principal | None:
        """The cached principal while the key that verified it is still the published one.

        Asking the key store (not a copy) is what makes a JWKS refresh apply here too.
        """
        try:
            key = await self.keys.key_for(seen.kid)
        except InvalidToken:
            self._forget(token)  # its key was withdrawn
            raise
        if key is seen.key:
            return seen.principal
        self._forget(token)  # republished under the same kid: check again with the new key
        return None

    def _forget(self, token: str) -> None:
        if self._verified is not None:
            self._verified.discard(token)

    async def _verify_fully(self, token: str) -> Principal:
        algorithm, kid = self._header(token.partition(".")[0])
        if algorithm != ALGORITHM:
            raise InvalidToken(
                f"algorithm {algorithm!r} is not accepted", VerificationFailure.ALGORITHM
            )
        key_id = kid if isinstance(kid, str) else None
        key = await self.keys.key_for(key_id)
        claims = self._decode(token, key)
        if claims.get("token_type") != ACCESS_TOKEN_TYPE:
            raise InvalidToken("not an access token", VerificationFailure.NOT_ACCESS_TOKEN)
        principal = _principal(claims)
        if self._verified is not None:
            # Only now, after every check passed: nothing a refusal produces is kept.
            self._verified.add(token, VerifiedToken(principal, key_id, key, principal.expires_at))
        return principal

    def _decode(self, token: str, key: Ed25519PublicKey) -> dict[str, Any]:
        try:
            claims = decode_claims(token, key, self._settings, REQUIRED_CLAIMS)
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("token has expired", VerificationFailure.EXPIRED) from exc
        except jwt.ImmatureSignatureError as exc:
            raise InvalidToken("token is not yet valid", VerificationFailure.NOT_YET_VALID) from exc
        except jwt.InvalidAudienceError as exc:
            raise InvalidToken(
                "token is for another audience", VerificationFailure.AUDIENCE
            ) from exc
        except jwt.InvalidIssuerError as exc:
            raise InvalidToken(
                "token is from an unknown issuer", VerificationFailure.ISSUER
            ) from exc
        except jwt.InvalidSignatureError as exc:
            raise InvalidToken("signature does not verify", VerificationFailure.SIGNATURE) from exc
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidToken(
                f"token lacks the {exc.claim!r} claim", VerificationFailure.CLAIMS
            ) from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken("malformed token", VerificationFailure.MALFORMED) from exc
        return claims

    async def aclose(self) -> None:
        """Release the HTTP client if this validator created it."""
        await self.keys.aclose()
        if self._owned_http is not None:
            await self._owned_http.aclose()


def _principal(claims: Mapping[str, Any]) -> Principal:
    username = claims.get("username")
    if not isinstance(username, str) or not username:
        raise InvalidToken("token lacks the 'username' claim", VerificationFailure.CLAIMS)
    try:
        user_id = uuid.UUID(str(claims["sub"]))
    except ValueError as exc:
        raise InvalidToken("token subject is not a user id", VerificationFailure.CLAIMS) from exc
    return Principal(
        id=user_id,
        username=username,
        expires_at=float(claims["exp"]),
        issued_at=float(claims["iat"]),
    )
