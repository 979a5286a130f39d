"""Annotated dependency aliases; chains from the caller to a chat they belong to."""

import uuid
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError

from auth_validator import Principal
from auth_validator.fastapi import CurrentPrincipal
from chat_common.contract.times import TIME_UUID_PATTERN, is_time_uuid
from chat_common.service_app import request_state, state_dependency
from chat_service.domain import Chat
from chat_service.exceptions import SendRateExceeded
from chat_service.send_rate import SendRateLimiter, retry_after_header
from chat_service.service import ChatService

ChatServiceDep = Annotated[ChatService, Depends(state_dependency("chat_service", ChatService))]


async def member_chat(
    chat_id: uuid.UUID, principal: CurrentPrincipal, service: ChatServiceDep
) -> Chat:
    """The chat in the path, if the caller is a member (404 otherwise, nothing written)."""
    return await service.member_chat(chat_id, principal.id)


MemberChat = Annotated[Chat, Depends(member_chat)]


async def within_send_rate(request: Request, principal: CurrentPrincipal) -> None:
    """429 with Retry-After when the caller sends (edits, deletes) faster than their rate.

    Put it first among a route's parameters: a refused send then costs no store query.
    """
    limiter = request_state(request, "send_rate", SendRateLimiter)
    wait = limiter.take(principal.id)
    if wait > 0:
        raise SendRateExceeded(retry_after_header(wait))


WithinSendRate = Annotated[None, Depends(within_send_rate)]


async def valid_page_time(
    time: Annotated[
        uuid.UUID | None,
        Query(
            description="A version-1 time UUID: messages strictly older than it.",
            json_schema_extra={"pattern": TIME_UUID_PATTERN},
        ),
    ] = None,
) -> uuid.UUID | None:
    """`time` must be a version-1 UUID (422 otherwise): only those carry a time."""
    return time_uuid_query(time, "time")


def time_uuid_query(value: uuid.UUID | None, name: str) -> uuid.UUID | None:
    """The query parameter `name` if it is absent or a version-1 UUID; 422 otherwise."""
    if value is not None and not is_time_uuid(value):
        raise RequestValidationError(
            [
                {
                    "type": "uuid_version",
                    "loc": ("query", name),
                    "msg": f"{name} must be a version-1 (time-based) UUID",
                    "input": str(value),
                }
            ]
        )
    return value


PageTime = Annotated[uuid.UUID | None, Depends(valid_page_time)]
PageQuantity = Annotated[int, Query(ge=1, le=100, description="Messages per page.")]

__all__ = [
    "ChatServiceDep",
    "CurrentPrincipal",
    "MemberChat",
    "PageQuantity",
    "PageTime",
    "Principal",
    "WithinSendRate",
]
