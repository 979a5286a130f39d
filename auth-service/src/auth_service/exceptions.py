"""Domain errors of the auth service (the shared handler maps them to HTTP)."""

from fastapi import FastAPI, status

from auth_service.database import UNAVAILABLE_ERRORS
from chat_common.errors import ServiceError, install_error_handler


class AuthError(ServiceError):
    """Base of the errors a client can cause; each maps to one status and one message."""

    status_code = status.HTTP_400_BAD_REQUEST
    detail = "Bad request"


class UsernameTaken(AuthError):
    status_code = status.HTTP_409_CONFLICT
    detail = "Username is already taken"


class InvalidCredentials(AuthError):
    # One message for unknown user and wrong password: which one it was must not leak.
    status_code = status.HTTP_401_UNAUTHORIZED
    detail = "Incorrect username or password"


class RefreshRejected(AuthError):
    status_code = status.HTTP_401_UNAUTHORIZED
    detail = "Refresh token is invalid, expired or revoked"


class UserNotFound(AuthError):
    status_code = status.HTTP_404_NOT_FOUND
    detail = "User not found"


def register_error_handler(app: FastAPI) -> None:
    """Domain errors to their status; Postgres being unusable to 503."""
    install_error_handler(
        app,
        unavailable=UNAVAILABLE_ERRORS,
        unavailable_detail="Service temporarily unavailable: database unreachable",
    )
