"""FastAPI dependencies: the bearer token, and the Principal it proves (401/503 otherwise)."""

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from auth_validator.errors import InvalidToken, KeysUnavailable
from auth_validator.principal import Principal
from auth_validator.validator import TokenValidator

# auto_error=False: a missing header must give our 401 with WWW-Authenticate, not a 403.
bearer_scheme = HTTPBearer(auto_error=False, description="Access token from POST /auth/login")

CHALLENGE = {"WWW-Authenticate": "Bearer"}


# Dependencies are `async def` even without I/O: FastAPI runs a plain `def` one in its
# threadpool, a thread hop per request.
async def get_token_validator(request: Request) -> TokenValidator:
    """The validator the service built in its lifespan (`app.state.token_validator`)."""
    validator = getattr(request.app.state, "token_validator", None)
    if not isinstance(validator, TokenValidator):
        raise RuntimeError("app.state.token_validator is not set: build it in the lifespan")
    return validator


TokenValidatorDep = Annotated[TokenValidator, Depends(get_token_validator)]


async def bearer_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> str:
    """The raw bearer token (for callers that forward it), or 401 when there is none."""
    if credentials is None or not credentials.credentials:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Not authenticated", headers=CHALLENGE)
    return credentials.credentials


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


async def current_principal(token: BearerToken, validator: TokenValidatorDep) -> Principal:
    """The caller proven by the bearer token."""
    return await authenticate(validator, token)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
