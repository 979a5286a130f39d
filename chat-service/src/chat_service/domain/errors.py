"""Domain errors of the chat service (the skeleton's one handler maps them to HTTP)."""

from fastapi import status

from chat_common.errors import RateLimited, ServiceError


class ChatServiceError(ServiceError):
    """Base of every error this service turns into an HTTP answer."""


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


class TooManyStreams(ChatServiceError):
    """The caller (or this server) already has as many open event streams as allowed."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    detail = "too many open event streams"
    headers = {"Retry-After": "5"}


class MessageNotFound(ChatServiceError):
    """No such message in this chat (or the chat is not the caller's)."""

    status_code = status.HTTP_404_NOT_FOUND
    detail = "message not found"


class NotTheSender(ChatServiceError):
    """Only the sender edits or deletes a message."""

    status_code = status.HTTP_403_FORBIDDEN
    detail = "only the sender can change this message"


class MessageDeleted(ChatServiceError):
    """A deleted message cannot be edited: a delete is final."""

    status_code = status.HTTP_409_CONFLICT
    detail = "message deleted"


class NotAMessageOfTheChat(ChatServiceError):
    """A read mark's `up_to` names no message of the chat."""

    status_code = status.HTTP_422_UNPROCESSABLE_CONTENT
    detail = "up_to is not a message of this chat"


class SendRateExceeded(RateLimited, ChatServiceError):
    """The caller sends faster than their per-user rate."""

    detail = "sending too fast"


class Blocked(ChatServiceError):
    """The other member of the direct chat blocked the sender."""

    status_code = status.HTTP_403_FORBIDDEN
    detail = "blocked"


class BlockSelf(ChatServiceError):
    """Nobody blocks themselves."""

    status_code = status.HTTP_422_UNPROCESSABLE_CONTENT
    detail = "cannot block yourself"


class ReportRateExceeded(RateLimited, ChatServiceError):
    """The caller reports faster than their per-user rate."""

    detail = "reporting too fast"


class ModerationUnavailable(ChatServiceError):
    """Kafka did not take the report: nothing was accepted."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    detail = "moderation queue unavailable"
    headers = {"Retry-After": "5"}


class ChatStartRateExceeded(RateLimited, ChatServiceError):
    """The caller starts chats faster than their per-user rate."""

    detail = "starting chats too fast"
