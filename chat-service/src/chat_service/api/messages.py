"""Routes of messages: send, read history (back or forward), edit and delete."""

import uuid

from fastapi import APIRouter, Response, status

from chat_common.error_model import error_responses
from chat_common.openapi_links import link
from chat_service.api.dependencies import (
    BlocksDep,
    ChatMember,
    ChatServiceDep,
    MessageChangesDep,
    PageAfter,
    PageQuantity,
    PageTime,
    SendingMember,
    time_and_after_conflict,
)
from chat_service.api.schemas import (
    MessageCatchUp,
    MessageCreate,
    MessageEdit,
    MessagePage,
    MessagePublic,
)

router = APIRouter(tags=["chats"])

_ERRORS = error_responses(
    (401, "Missing or invalid bearer token"),
    (503, "Cassandra or the auth service is unavailable"),
)
_NOT_A_MEMBER = (404, "No such chat, or not a member")
_BLOCKED = (403, "The other member blocked you (`blocked`)")
_TOO_FAST = (429, "Sending too fast (Retry-After says when to retry)")
_CHANGE_ERRORS = error_responses(
    (401, "Missing or invalid bearer token"),
    (403, "Not the sender of the message"),
    (404, "No such message in a chat of yours"),
    (429, "Changing too fast (Retry-After says when to retry)"),
    (503, "Cassandra or the auth service is unavailable"),
)

# OpenAPI links: what a client (and the conformance suite) does next with an answer.
_THE_MESSAGE = {"chat_id": "$response.body#/chat_id", "message_id": "$response.body#/id"}
_MESSAGE_LINKS = {
    "older": link(
        "/chat/{chat_id}",
        "GET",
        {"chat_id": "$response.body#/chat_id", "time": "$response.body#/id"},
    ),
    "edit": link("/chat/{chat_id}/messages/{message_id}", "PATCH", _THE_MESSAGE),
    "delete": link("/chat/{chat_id}/messages/{message_id}", "DELETE", _THE_MESSAGE),
    "read": link(
        "/chat/{chat_id}/read",
        "POST",
        {"chat_id": "$response.body#/chat_id"},
        request_body={"up_to": "$response.body#/id"},
    ),
}


@router.post(
    "/chat/{chat_id}/messages",
    status_code=status.HTTP_201_CREATED,
    responses={
        **_ERRORS,
        **error_responses(_BLOCKED, _NOT_A_MEMBER, _TOO_FAST),
        201: {"description": "The message as stored", "links": _MESSAGE_LINKS},
    },
)
async def send_message(
    body: MessageCreate, member: SendingMember, service: ChatServiceDep, blocks: BlocksDep
) -> MessagePublic:
    """Send a message; a repeated `client_message_id` returns the first message."""
    await blocks.check_send(member.chat, member.user_id)
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


@router.patch(
    "/chat/{chat_id}/messages/{message_id}",
    responses={
        **_CHANGE_ERRORS,
        **error_responses((409, "The message was deleted"), (422, "Empty or too long text")),
    },
)
async def edit_message(
    message_id: uuid.UUID, body: MessageEdit, member: SendingMember, changes: MessageChangesDep
) -> MessagePublic:
    """Replace the text of one of your messages; `edited_at` says when."""
    return MessagePublic.model_validate(
        await changes.edit(member.chat, member.user_id, message_id, body.text)
    )


@router.delete(
    "/chat/{chat_id}/messages/{message_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_CHANGE_ERRORS,
)
async def delete_message(
    message_id: uuid.UUID, member: SendingMember, changes: MessageChangesDep
) -> Response:
    """Delete one of your messages: history then shows it deleted, without text."""
    await changes.delete(member.chat, member.user_id, message_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
