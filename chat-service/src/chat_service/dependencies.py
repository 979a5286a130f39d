"""Annotated dependency aliases; a chat route gets the caller and their chat from one.

FastAPI solves each dependency of a request anew, about 10 µs apiece, and a repeated one
(the principal under the rate limit, under the chat and on the route) walks its whole
subtree again before it finds its cached value: so a chat route takes one `ChatMember`
(or `SendingMember`), which resolves the principal, the send rate and the chat in turn.
"""

import uuid
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class Member:
    """The caller, proven by their token, and the chat in the path, which is theirs."""

    user_id: uuid.UUID
    chat: Chat


async def chat_member(chat_id: uuid.UUID, principal: CurrentPrincipal, request: Request) -> Member:
    """The caller and the chat in the path, if they are a member (404 otherwise, nothing
    written)."""
    service = request_state(request, "chat_service", ChatService)
    return Member(principal.id, await service.member_chat(chat_id, principal.id))


async def sending_member(
    chat_id: uuid.UUID, principal: CurrentPrincipal, request: Request
) -> Member:
    """`chat_member` for a send, edit or delete: first 429 with Retry-After when the caller
    goes faster than their rate, so that a refused change costs no store query."""
    wait = request_state(request, "send_rate", SendRateLimiter).take(principal.id)
    if wait > 0:
        raise SendRateExceeded(retry_after_header(wait))
    return await chat_member(chat_id, principal, request)


ChatMember = Annotated[Member, Depends(chat_member)]
SendingMember = Annotated[Member, Depends(sending_member)]


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
    "ChatMember",
    "ChatServiceDep",
    "CurrentPrincipal",
    "Member",
    "PageQuantity",
    "PageTime",
    "Principal",
    "SendingMember",
]
