"""The SSE relay forwards a batch's edits and deletes with its messages."""

import json
import uuid
from datetime import UTC, datetime, timedelta

from chat_common.contract.documents import BatchDelete, BatchDocument, BatchEdit
from chat_service.api.realtime import BatchEvent


def test_batch_event_carries_edits_and_deletes() -> None:
    sent, gone = uuid.uuid1(), uuid.uuid1()
    at = datetime(2026, 5, 1, 12, 0, 0, 250_000, tzinfo=UTC)
    document = BatchDocument.of(
        chat_id=uuid.uuid4(),
        sender_id=uuid.uuid4(),
        members=(),
        messages=(),
        edits=(BatchEdit(id=sent, text="fixed", edited_at=at),),
        deletes=(BatchDelete(id=gone, deleted_at=at),),
        created_at=at,
        ttl=timedelta(hours=1),
    )
    frame = BatchEvent("doc", document).to_sse()
    body = json.loads(frame.split("data: ", 1)[1])
    assert body["messages"] == [] and body["count"] == 0
    assert body["edits"] == [
        {"id": str(sent), "text": "fixed", "edited_at": "2026-05-01T12:00:00.250Z"}
    ]
    assert body["deletes"] == [{"id": str(gone), "deleted_at": "2026-05-01T12:00:00.250Z"}]
