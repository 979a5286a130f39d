"""Domain errors of the auth service and the one handler that maps them to HTTP."""

import logging

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from auth_service.database import UNAVAILABLE_ERRORS

logger = logging.getLogger(__name__)


class AuthError(Exception):
    """Base of the errors a client can cause; each maps to one status and one message."""

    status_code = status.HTTP_400_BAD_REQUEST
    detail = "Bad request"
    headers: dict[str, str] | None = None


class UsernameTaken(AuthError):
    status_code = status.HTTP_409_CONFLICT
    detail = "Username is already taken"


class InvalidCredentials(AuthError):
    # One message for unknown user and wrong password: which one it was must not leak.
    status_code = status.HTTP_401_UNAUTHORIZED
    detail = "Incorrect username or password"
    headers = {"WWW-Authenticate": "Bearer"}


class RefreshRejected(AuthError):
    status_code = status.HTTP_401_UNAUTHORIZED
    detail = "Refresh token is invalid, expired or revoked"
    headers = {"WWW-Authenticate": "Bearer"}


class UserNotFound(AuthError):
    status_code = status.HTTP_404_NOT_FOUND
    detail = "User not found"


async def handle_error(request: Request, exc: Exception) -> JSONResponse:
    """Domain errors to their status; Postgres being unusable to 503 (never a 500 or a hang)."""
    if isinstance(exc, AuthError):
        return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)
    logger.warning("database unavailable on %s: %r", request.url.path, exc)
    return JSONResponse(
        {"detail": "Service temporarily unavailable: database unreachable"},
        status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": "5"},
    )


def register_error_handler(app: FastAPI) -> None:
    handled: tuple[type[Exception], ...] = (AuthError, *UNAVAILABLE_ERRORS)
    for error in handled:
        app.add_exception_handler(error, handle_error)
