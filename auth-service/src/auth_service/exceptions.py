"""Domain errors of the auth service (the skeleton's one handler maps them to HTTP)."""

from fastapi import status

from chat_common.errors import DependencyUnavailable, RateLimited, ServiceError


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


class AccountGone(InvalidCredentials):
    """The account a write refers to was deleted meanwhile (a login racing its deletion)."""


class RefreshRejected(AuthError):
    status_code = status.HTTP_401_UNAUTHORIZED
    detail = "Refresh token is invalid, expired or revoked"


class SessionRevoked(AuthError):
    """The access token predates its user's logout-all, or the account is gone."""

    status_code = status.HTTP_401_UNAUTHORIZED
    detail = "Access token revoked: log in again"
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


class UserNotFound(AuthError):
    status_code = status.HTTP_404_NOT_FOUND
    detail = "User not found"


class TooManyAttempts(RateLimited, AuthError):
    """A 429 limit was reached; `retry_after` says in how many seconds its window ends."""

    detail = "Too many attempts, retry later"


class HashingBusy(AuthError):
    """Every password-hashing slot stayed busy for the whole bounded wait."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    detail = "Service busy, retry shortly"


class DatabaseUnavailable(DependencyUnavailable):
    """Postgres cannot be used right now (down, overloaded, timed out)."""

    detail = "Service temporarily unavailable: database unreachable"
