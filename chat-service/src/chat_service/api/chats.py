"""Routes of chats: start one (`POST /chats`) and list the caller's (`GET /chats`)."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from fastapi.exceptions import RequestValidationError

from auth_validator.fastapi import BearerToken, CurrentPrincipal
from chat_common.contract.documents import LastMessage
from chat_common.error_model import error_responses
from chat_common.openapi_links import link
from chat_service.api.dependencies import ChatListDep, ChatServiceDep, ChatStarter
from chat_service.api.schemas import (
    ChatCreate,
    ChatList,
    ChatPublic,
    ChatSummary,
)
from chat_service.domain.chat_list import ChatListing, InvalidCursor

router = APIRouter(tags=["chats"])

_ERRORS = error_responses(
    (401, "Missing or invalid bearer token"),
    (503, "Cassandra or the auth service is unavailable"),
)

# OpenAPI links: what a client (and the conformance suite) does next with an answer.
_CHAT_LINKS = {
    "history": link("/chat/{chat_id}", "GET", {"chat_id": "$response.body#/id"}),
    "send": link("/chat/{chat_id}/messages", "POST", {"chat_id": "$response.body#/id"}),
    "read": link("/chat/{chat_id}/read", "POST", {"chat_id": "$response.body#/id"}),
}

ListLimit = Annotated[int, Query(ge=1, le=100, description="Chats per page.")]
ListCursor = Annotated[
    str | None,
    Query(max_length=200, description="`next_cursor` of the previous page."),
]


@router.post(
    "/chats",
    status_code=status.HTTP_201_CREATED,
    responses={
        **_ERRORS,
        **error_responses(
            (404, "Unknown user"),
            (422, "Invalid body, or a chat with oneself"),
            (429, "Starting chats too fast (Retry-After says when to retry)"),
        ),
        200: {"model": ChatPublic, "description": "The pair's existing chat", "links": _CHAT_LINKS},
        201: {"description": "The pair's new chat", "links": _CHAT_LINKS},
    },
)
async def start_chat(
    body: ChatCreate,
    principal: ChatStarter,
    token: BearerToken,
    service: ChatServiceDep,
    response: Response,
) -> ChatPublic:
    """Start (or find) the chat between the caller and `user_id`."""
    chat, created = await service.start_chat(principal.id, body.user_id, token)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return ChatPublic.model_validate(chat)


def _summary(listing: ChatListing) -> ChatSummary:
    chat, last = listing.activity.chat, listing.last_message
    return ChatSummary(
        id=chat.id,
        members=list(chat.members),
        created_at=chat.created_at,
        last_message_at=listing.activity.last_message_at,
        last_message=(
            LastMessage(id=last.id, sender_id=last.sender_id, text=last.text, sent_at=last.sent_at)
            if last
            else None
        ),
        unread=listing.unread,
        read_up_to=listing.read_up_to,
        other_read_up_to=listing.other_read_up_to,
    )


@router.get("/chats", responses={**_ERRORS, **error_responses((422, "Bad limit or cursor"))})
async def list_chats(
    principal: CurrentPrincipal,
    chat_list: ChatListDep,
    limit: ListLimit = 20,
    cursor: ListCursor = None,
) -> ChatList:
    """The caller's chats, most recent activity first, with previews and unread counts."""
    try:
        listings, next_cursor = await chat_list.page(principal.id, limit, cursor)
    except InvalidCursor as exc:
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("query", "cursor"), "msg": str(exc), "input": cursor}]
        ) from exc
    return ChatList(items=[_summary(item) for item in listings], next_cursor=next_cursor)
