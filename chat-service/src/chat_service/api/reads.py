"""Route of read marks: `POST /chat/{chat_id}/read`."""

from fastapi import APIRouter, Response, status

from chat_common.error_model import error_responses
from chat_service.api.dependencies import ChatMember, ReadMarksDep
from chat_service.api.schemas import ReadMark

router = APIRouter(tags=["chats"])


@router.post(
    "/chat/{chat_id}/read",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(
        (401, "Missing or invalid bearer token"),
        (404, "No such chat, or not a member"),
        (422, "up_to is not a time UUID, or not a message of this chat"),
        (503, "Cassandra or the auth service is unavailable"),
    ),
)
async def mark_read(body: ReadMark, member: ChatMember, read_marks: ReadMarksDep) -> None:
    """Move the caller's read mark forward to `up_to` (an older one changes nothing)."""
    await read_marks.mark_read(member.chat, member.user_id, body.up_to)
