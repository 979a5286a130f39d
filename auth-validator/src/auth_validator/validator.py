"""Local verification of access tokens: signature, algorithm, time, issuer, audience, type."""

import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import jwt

from auth_validator.errors import InvalidToken
from auth_validator.keys import (
    ALGORITHM,
    JwksKeyStore,
    KeyStore,
    StaticKeyStore,
    load_public_key_pem,
)
from auth_validator.principal import Principal
from auth_validator.settings import ValidatorSettings

ACCESS_TOKEN_TYPE = "access"
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]


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
    ) -> None:
        self._settings = settings
        self._owned_http: httpx.AsyncClient | None = None
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

    async def verify(self, token: str) -> Principal:
        """Return the token's principal; raise InvalidToken or KeysUnavailable."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken("malformed token") from exc
        algorithm = header.get("alg")
        if algorithm != ALGORITHM:
            raise InvalidToken(f"algorithm {algorithm!r} is not accepted")
        kid = header.get("kid")
        key = await self.keys.key_for(kid if isinstance(kid, str) else None)
        claims = self._decode(token, key)
        if claims.get("token_type") != ACCESS_TOKEN_TYPE:
            raise InvalidToken("not an access token")
        return _principal(claims)

    def _decode(self, token: str, key: Any) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self._settings.AUTH_AUDIENCE,
                issuer=self._settings.AUTH_ISSUER,
                leeway=self._settings.AUTH_LEEWAY_SECONDS,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("token has expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise InvalidToken("token is not yet valid") from exc
        except jwt.InvalidAudienceError as exc:
            raise InvalidToken("token is for another audience") from exc
        except jwt.InvalidIssuerError as exc:
            raise InvalidToken("token is from an unknown issuer") from exc
        except jwt.InvalidSignatureError as exc:
            raise InvalidToken("signature does not verify") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidToken(f"token lacks the {exc.claim!r} claim") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken("malformed token") from exc
        return claims

    async def aclose(self) -> None:
        """Release the HTTP client if this validator created it."""
        await self.keys.aclose()
        if self._owned_http is not None:
            await self._owned_http.aclose()


def _principal(claims: Mapping[str, Any]) -> Principal:
    username = claims.get("username")
    if not isinstance(username, str) or not username:
        raise InvalidToken("token lacks the 'username' claim")
    try:
        user_id = uuid.UUID(str(claims["sub"]))
    except ValueError as exc:
        raise InvalidToken("token subject is not a user id") from exc
    return Principal(id=user_id, username=username)
