"""FastAPI dependencies: the caller's access token, and the Principal it proves.

One family for every service: a missing token is 401 "Not authenticated", a refused one
401 `invalid_token`, missing keys 503. The token comes from the Authorization header;
`StreamPrincipal` also takes `?access_token=` for EventSource, which cannot send headers.
A service that wants Swagger UI's password login builds its alias with
`principal_dependency(password_flow_scheme(token_url))`.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, OAuth2PasswordBearer

from auth_validator.errors import InvalidToken, KeysUnavailable
from auth_validator.principal import Principal
from auth_validator.validator import TokenValidator

# auto_error=False: a missing header must give our 401 with WWW-Authenticate, not a 403.
bearer_scheme = HTTPBearer(auto_error=False, description="Access token from POST /auth/login")

CHALLENGE = {"WWW-Authenticate": "Bearer"}

TokenScheme = HTTPBearer | OAuth2PasswordBearer


def password_flow_scheme(token_url: str) -> OAuth2PasswordBearer:
    """The header scheme as an OAuth2 password flow, so Swagger UI's "Authorize" logs in."""
    return OAuth2PasswordBearer(tokenUrl=token_url, auto_error=False)


def token_validator(request: Request) -> TokenValidator:
    """The validator the service built in its lifespan (`app.state.token_validator`).

    Read by a plain call rather than as a dependency of its own: FastAPI solves every
    dependency of every request anew (about 10 µs each), and this one is on every route.
    """
    validator = getattr(request.app.state, "token_validator", None)
    if not isinstance(validator, TokenValidator):
        raise RuntimeError("app.state.token_validator is not set: build it in the lifespan")
    return validator


def require_token(token: str | None) -> str:
    """`token`, or the one 401 every service gives when there is none."""
    if not token:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Not authenticated", headers=CHALLENGE)
    return token


# Dependencies are `async def` even without I/O: FastAPI runs a plain `def` one in its
# threadpool, a thread hop per request.
async def bearer_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> str:
    """The raw bearer token (for callers that forward it), or 401 when there is none."""
    return require_token(credentials.credentials if credentials else None)


BearerToken = Annotated[str, Depends(bearer_token)]


async def authenticate(validator: TokenValidator, token: str) -> Principal:
    """Verify `token`, mapping refusals to 401 and missing keys to 503."""
    try:
        return await validator.verify(token)
    except InvalidToken as exc:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            f"Invalid access token: {exc}",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from exc
    except KeysUnavailable as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "Token verification keys are unavailable, retry later",
            headers={"Retry-After": "5"},
        ) from exc


def principal_dependency(scheme: TokenScheme) -> Callable[..., Awaitable[Principal]]:
    """A dependency giving the caller proven by the token that `scheme` reads."""

    async def current_principal(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | str | None, Depends(scheme)],
    ) -> Principal:
        if isinstance(credentials, HTTPAuthorizationCredentials):
            credentials = credentials.credentials
        return await authenticate(token_validator(request), require_token(credentials))

    return current_principal


current_principal = principal_dependency(bearer_scheme)
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def stream_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    access_token: Annotated[
        str | None,
        Query(description="The access token, for EventSource (it cannot send headers)."),
    ] = None,
) -> Principal:
    """The caller, from the Authorization header or (stream routes only) `?access_token=`."""
    token = credentials.credentials if credentials else access_token
    return await authenticate(token_validator(request), require_token(token))


StreamPrincipal = Annotated[Principal, Depends(stream_principal)]
