"""HTTP routes of the chat list and read marks: `GET /chats`, `POST /chat/{id}/read`."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError

from auth_validator.fastapi import CurrentPrincipal
from chat_common.error_model import error_responses
from chat_service.chat_list import ChatList as ChatListService
from chat_service.chat_list import ChatListing, InvalidCursor
from chat_service.dependencies import ChatMember
from chat_service.read_marks import ReadMarks
from chat_service.schemas import ChatList, ChatSummary, LastMessagePreview, ReadMark

reading_router = APIRouter(tags=["chats"])

_ERRORS = error_responses(
    (401, "Missing or invalid bearer token"),
    (503, "Cassandra or the auth service is unavailable"),
)


async def get_chat_list(request: Request) -> ChatListService:
    """The chat list built in the lifespan."""
    chat_list: ChatListService = request.app.state.chat_list
    return chat_list


async def get_read_marks(request: Request) -> ReadMarks:
    """The read marks built in the lifespan."""
    read_marks: ReadMarks = request.app.state.read_marks
    return read_marks


ChatListDep = Annotated[ChatListService, Depends(get_chat_list)]
ReadMarksDep = Annotated[ReadMarks, Depends(get_read_marks)]
ListLimit = Annotated[int, Query(ge=1, le=100, description="Chats per page.")]
ListCursor = Annotated[
    str | None,
    Query(max_length=200, description="`next_cursor` of the previous page."),
]


def _summary(listing: ChatListing) -> ChatSummary:
    chat, last = listing.activity.chat, listing.last_message
    return ChatSummary(
        id=chat.id,
        members=list(chat.members),
        created_at=chat.created_at,
        last_message_at=listing.activity.last_message_at,
        last_message=LastMessagePreview.model_validate(last) if last else None,
        unread=listing.unread,
        read_up_to=listing.read_up_to,
        other_read_up_to=listing.other_read_up_to,
    )


@reading_router.get(
    "/chats", responses={**_ERRORS, **error_responses((422, "Bad limit or cursor"))}
)
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


@reading_router.post(
    "/chat/{chat_id}/read",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={
        **_ERRORS,
        **error_responses(
            (404, "No such chat, or not a member"),
            (422, "up_to is not a time UUID, or not a message of this chat"),
        ),
    },
)
async def mark_read(body: ReadMark, member: ChatMember, read_marks: ReadMarksDep) -> None:
    """Move the caller's read mark forward to `up_to` (an older one changes nothing)."""
    await read_marks.mark_read(member.chat, member.user_id, body.up_to)
