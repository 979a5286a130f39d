"""Domain errors of the chat service and the one handler that maps them to HTTP."""

import logging

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

logger = logging.getLogger(__name__)


class ChatServiceError(Exception):
    """Base of every error this service turns into an HTTP answer."""

    status_code = status.HTTP_500_INTERNAL_SERVER_ERROR
    detail = "internal error"


class ChatNotFound(ChatServiceError):
    """No such chat, or the caller is not a member (indistinguishable on purpose)."""

    status_code = status.HTTP_404_NOT_FOUND
    detail = "chat not found"


class UserNotFound(ChatServiceError):
    """The auth service does not know the other user."""

    status_code = status.HTTP_404_NOT_FOUND
    detail = "user not found"


class ChatWithSelf(ChatServiceError):
    """A chat needs two different people."""

    status_code = status.HTTP_422_UNPROCESSABLE_CONTENT
    detail = "cannot start a chat with yourself"


class StoreUnavailable(ChatServiceError):
    """Cassandra is down, overloaded or timed out."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    detail = "message store unavailable"


class AuthServiceUnavailable(ChatServiceError):
    """The auth service could not be asked whether a user exists."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    detail = "auth service unavailable"


class CallerRejected(ChatServiceError):
    """The auth service refused the caller's token although it verified locally."""

    status_code = status.HTTP_401_UNAUTHORIZED
    detail = "token rejected by the auth service"


async def handle_chat_service_error(request: Request, exc: Exception) -> JSONResponse:
    """Map a domain error to its status; 503s say Retry-After so clients back off."""
    assert isinstance(exc, ChatServiceError)
    headers: dict[str, str] = {}
    if exc.status_code == status.HTTP_503_SERVICE_UNAVAILABLE:
        logger.warning("%s %s: %s", request.method, request.url.path, exc)
        headers["Retry-After"] = "1"
    elif exc.status_code == status.HTTP_401_UNAUTHORIZED:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)


def register_exception_handlers(app: FastAPI) -> None:
    """Install the one handler for every domain error."""
    app.add_exception_handler(ChatServiceError, handle_chat_service_error)
