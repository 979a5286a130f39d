"""HTTP routes of the chat service: parse, call the service, return a schema."""

from fastapi import APIRouter, Response, status

from auth_validator.fastapi import BearerToken, CurrentPrincipal
from chat_common.error_model import error_responses
from chat_common.openapi_links import link
from chat_service.dependencies import (
    ChatMember,
    ChatServiceDep,
    PageQuantity,
    PageTime,
    SendingMember,
)
from chat_service.message_changes_router import (
    MessageChangesDep,
    PageAfter,
    time_and_after_conflict,
)
from chat_service.schemas import (
    ChatCreate,
    ChatPublic,
    MessageCatchUp,
    MessageCreate,
    MessagePage,
    MessagePublic,
)

router = APIRouter(tags=["chats"])

_ERRORS = error_responses(
    (401, "Missing or invalid bearer token"),
    (503, "Cassandra or the auth service is unavailable"),
)
_NOT_A_MEMBER = (404, "No such chat, or not a member")
_TOO_FAST = (429, "Sending too fast (Retry-After says when to retry)")

# OpenAPI links: what a client (and the conformance suite) does next with an answer.
_CHAT_LINKS = {
    "history": link("/chat/{chat_id}", "GET", {"chat_id": "$response.body#/id"}),
    "send": link("/chat/{chat_id}/messages", "POST", {"chat_id": "$response.body#/id"}),
}
_MESSAGE_LINKS = {
    "older": link(
        "/chat/{chat_id}",
        "GET",
        {"chat_id": "$response.body#/chat_id", "time": "$response.body#/id"},
    ),
}


@router.post(
    "/chats",
    status_code=status.HTTP_201_CREATED,
    responses={
        **_ERRORS,
        **error_responses((404, "Unknown user"), (422, "Invalid body, or a chat with oneself")),
        200: {"model": ChatPublic, "description": "The pair's existing chat", "links": _CHAT_LINKS},
        201: {"description": "The pair's new chat", "links": _CHAT_LINKS},
    },
)
async def start_chat(
    body: ChatCreate,
    principal: CurrentPrincipal,
    token: BearerToken,
    service: ChatServiceDep,
    response: Response,
) -> ChatPublic:
    """Start (or find) the chat between the caller and `user_id`."""
    chat, created = await service.start_chat(principal.id, body.user_id, token)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return ChatPublic.model_validate(chat)


@router.post(
    "/chat/{chat_id}/messages",
    status_code=status.HTTP_201_CREATED,
    responses={
        **_ERRORS,
        **error_responses(_NOT_A_MEMBER, _TOO_FAST),
        201: {"description": "The message as stored", "links": _MESSAGE_LINKS},
    },
)
async def send_message(
    body: MessageCreate, member: SendingMember, service: ChatServiceDep
) -> MessagePublic:
    """Send a message; a repeated `client_message_id` returns the first message."""
    message = await service.send_message(
        member.chat, member.user_id, body.text, body.client_message_id
    )
    return MessagePublic.model_validate(message)


@router.get(
    "/chat/{chat_id}",
    responses={**_ERRORS, **error_responses(_NOT_A_MEMBER)},
)
async def history(
    member: ChatMember,
    service: ChatServiceDep,
    changes: MessageChangesDep,
    time: PageTime,
    after: PageAfter,
    quantity: PageQuantity = 10,
) -> MessagePage | MessageCatchUp:
    """Messages strictly older than `time` (default: from the newest), newest first; or,
    with `after`, strictly newer than `after`, oldest first (catch-up after a gap)."""
    if after is not None:
        if time is not None:
            raise time_and_after_conflict()
        newer, next_after = await changes.after(member.chat, after, quantity)
        return MessageCatchUp(
            items=[MessagePublic.model_validate(m) for m in newer], next_after=next_after
        )
    items, next_time = await service.history(member.chat, time, quantity)
    return MessagePage(
        items=[MessagePublic.model_validate(item) for item in items], next_time=next_time
    )
