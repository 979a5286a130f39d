"""HTTP routes of edits and deletes, and the `after` parameter of catch-up paging."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError

from chat_common.contract.times import TIME_UUID_PATTERN
from chat_common.error_model import error_responses
from chat_service.dependencies import SendingMember, time_uuid_query
from chat_service.message_changes import MessageChanges
from chat_service.schemas import MessageEdit, MessagePublic

changes_router = APIRouter(tags=["chats"])

_ERRORS = error_responses(
    (401, "Missing or invalid bearer token"),
    (403, "Not the sender of the message"),
    (404, "No such message in a chat of yours"),
    (429, "Changing too fast (Retry-After says when to retry)"),
    (503, "Cassandra or the auth service is unavailable"),
)


async def get_message_changes(request: Request) -> MessageChanges:
    """The edit/delete service built in the lifespan."""
    changes: MessageChanges = request.app.state.message_changes
    return changes


MessageChangesDep = Annotated[MessageChanges, Depends(get_message_changes)]


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


@changes_router.patch(
    "/chat/{chat_id}/messages/{message_id}",
    responses={
        **_ERRORS,
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


@changes_router.delete(
    "/chat/{chat_id}/messages/{message_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_ERRORS,
)
async def delete_message(
    message_id: uuid.UUID, member: SendingMember, changes: MessageChangesDep
) -> Response:
    """Delete one of your messages: history then shows it deleted, without text."""
    await changes.delete(member.chat, member.user_id, message_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
