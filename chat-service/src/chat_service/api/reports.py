"""Route of reports: `POST /chat/{chat_id}/messages/{message_id}/report` (DESIGN.md
"Safety"): 202 once the report is on the `moderation` topic."""

import uuid

from fastapi import APIRouter, Response, status

from chat_common.error_model import error_responses
from chat_service.api.dependencies import ReportingMember, ReportsDep
from chat_service.api.schemas import ReportCreate
from chat_service.domain.errors import ModerationUnavailable
from chat_service.outbox.publisher import KafkaUnavailable

router = APIRouter(tags=["chats"])


@router.post(
    "/chat/{chat_id}/messages/{message_id}/report",
    status_code=status.HTTP_202_ACCEPTED,
    response_class=Response,
    responses=error_responses(
        (401, "Missing or invalid bearer token"),
        (404, "No such message in a chat of yours"),
        (422, "Empty, unsafe or too long reason"),
        (429, "Reporting too fast (Retry-After says when to retry)"),
        (503, "Cassandra, Kafka or the auth service is unavailable"),
    ),
)
async def report_message(
    message_id: uuid.UUID, body: ReportCreate, member: ReportingMember, reports: ReportsDep
) -> Response:
    """Report a message to the moderators: it goes to them as it is now, with your reason."""
    try:
        await reports.report(member.chat, member.user_id, message_id, body.reason)
    except KafkaUnavailable as exc:
        raise ModerationUnavailable(str(exc)) from exc
    return Response(status_code=status.HTTP_202_ACCEPTED)
