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
from chat_common.errors import RateLimited
from chat_common.service_app import request_state, state_dependency
from chat_service.api.send_rate import SendRateLimiter, retry_after_header
from chat_service.domain.blocks import Blocks
from chat_service.domain.changes import MessageChanges
from chat_service.domain.chat_list import ChatList
from chat_service.domain.chats import ChatService
from chat_service.domain.errors import (
    ChatStartRateExceeded,
    ReportRateExceeded,
    SendRateExceeded,
)
from chat_service.domain.model import Chat
from chat_service.domain.read_marks import ReadMarks
from chat_service.domain.reports import Reports

ChatServiceDep = Annotated[ChatService, Depends(state_dependency("chat_service", ChatService))]
MessageChangesDep = Annotated[
    MessageChanges, Depends(state_dependency("message_changes", MessageChanges))
]
ChatListDep = Annotated[ChatList, Depends(state_dependency("chat_list", ChatList))]
ReadMarksDep = Annotated[ReadMarks, Depends(state_dependency("read_marks", ReadMarks))]
BlocksDep = Annotated[Blocks, Depends(state_dependency("blocks", Blocks))]
ReportsDep = Annotated[Reports, Depends(state_dependency("reports", Reports))]


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


def _within_rate(
    request: Request, limiter: str, caller: uuid.UUID, refused: type[RateLimited]
) -> None:
    """Count one call of `caller` on the limiter `limiter` of app.state; past its rate,
    `refused` (429 with Retry-After), before any store query."""
    wait = request_state(request, limiter, SendRateLimiter).take(caller)
    if wait > 0:
        raise refused(retry_after_header(wait))


async def sending_member(
    chat_id: uuid.UUID, principal: CurrentPrincipal, request: Request
) -> Member:
    """`chat_member` for a send, edit or delete: first 429 with Retry-After when the caller
    goes faster than their rate, so that a refused change costs no store query."""
    _within_rate(request, "send_rate", principal.id, SendRateExceeded)
    return await chat_member(chat_id, principal, request)


async def chat_starter(principal: CurrentPrincipal, request: Request) -> Principal:
    """The caller of POST /chats, unless they start chats faster than their rate (429 with
    Retry-After, before any store query)."""
    _within_rate(request, "chat_start_rate", principal.id, ChatStartRateExceeded)
    return principal


ChatStarter = Annotated[Principal, Depends(chat_starter)]
ChatMember = Annotated[Member, Depends(chat_member)]
SendingMember = Annotated[Member, Depends(sending_member)]


async def reporting_member(
    chat_id: uuid.UUID, principal: CurrentPrincipal, request: Request
) -> Member:
    """`chat_member` for a report: first 429 with Retry-After past the caller's report
    rate, so that a refused report costs no store query."""
    _within_rate(request, "report_rate", principal.id, ReportRateExceeded)
    return await chat_member(chat_id, principal, request)


ReportingMember = Annotated[Member, Depends(reporting_member)]


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


async def valid_page_after(
    after: Annotated[
        uuid.UUID | None,
        Query(
            description="A version-1 time UUID: messages strictly newer than it, oldest "
            "first (catch-up). Not with `time`.",
            json_schema_extra={"pattern": TIME_UUID_PATTERN},
        ),
    ] = None,
) -> uuid.UUID | None:
    """`after` must be a version-1 UUID (422 otherwise): only those carry a time."""
    return time_uuid_query(after, "after")


PageAfter = Annotated[uuid.UUID | None, Depends(valid_page_after)]


def time_and_after_conflict() -> RequestValidationError:
    """422: a page goes either back from `time` or forward from `after`."""
    return RequestValidationError(
        [
            {
                "type": "value_error",
                "loc": ("query", "after"),
                "msg": "give either time or after, not both",
                "input": None,
            }
        ]
    )


PageQuantity = Annotated[int, Query(ge=1, le=100, description="Messages per page.")]

__all__ = [
    "BlocksDep",
    "ReportingMember",
    "ReportsDep",
    "ChatListDep",
    "ChatMember",
    "ChatServiceDep",
    "ChatStarter",
    "MessageChangesDep",
    "PageAfter",
    "CurrentPrincipal",
    "Member",
    "PageQuantity",
    "PageTime",
    "Principal",
    "ReadMarksDep",
    "SendingMember",
]
