"""For the tests of any service that trusts auth-validator: forged tokens (a service's
own tests should show that it refuses these; they need no signing key) and a minimal
service that trusts nothing else.
"""

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from auth_validator.fastapi import CurrentPrincipal
from auth_validator.validator import TokenValidator


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def forge_token(header: dict[str, Any], claims: dict[str, Any], secret: bytes | None) -> str:
    """A token assembled by hand: unsigned (`alg: none`) when `secret` is None, else HS256
    with `secret` (the public key as HMAC secret is the classic algorithm confusion)."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    if secret is None:
        return signing_input + "."
    digest = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(digest)}"


def tamper(token: str, **changes: Any) -> str:
    """`token` with claims replaced in its payload and the original signature kept."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    return f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"


def whoami_app(make_validator: Callable[[], TokenValidator]) -> FastAPI:
    """A service whose only dependency is auth-validator: `GET /whoami` answers the
    caller's id and username. Its lifespan builds the validator and closes it."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.token_validator = make_validator()
        yield
        await app.state.token_validator.aclose()

    app = FastAPI(lifespan=lifespan)

    @app.get("/whoami")
    async def whoami(principal: CurrentPrincipal) -> dict[str, str]:
        return {"id": str(principal.id), "username": principal.username}

    return app
