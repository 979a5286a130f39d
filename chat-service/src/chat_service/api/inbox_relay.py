"""The live inbox for browsers: a user's `users/{uid}/chats` documents as Server-Sent Events.

The web page cannot reach the gRPC-only emulator, so, as for a chat's batches
(realtime.py), the chat service listens for it. Inbox documents are rewritten as messages
and read marks arrive, so changes are forwarded as well as additions; each event is the
whole document (the contract's `InboxDocument`), and a client keeps the newest per chat.
"""

import asyncio
import json
import uuid
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from google.cloud.firestore_v1.base_query import FieldFilter
from prometheus_client import Counter

from chat_common.contract.documents import InboxDocument, user_inbox
from chat_common.contract.times import rfc3339_millis
from chat_service.api.realtime import BatchFeed
from chat_service.api.sse import relay_stream

INBOX_EVENTS_RELAYED = Counter(
    "chat_inbox_events_relayed_total", "Firestore inbox documents forwarded to SSE streams."
)


@dataclass(frozen=True, slots=True)
class InboxEvent:
    """One inbox document as the relay forwards it."""

    document: InboxDocument

    @classmethod
    def from_document(cls, _doc_id: str, data: Mapping[str, Any]) -> "InboxEvent":
        return cls(InboxDocument.from_firestore(data))

    def to_sse(self) -> str:
        """An SSE `inbox` event; its id (updated_at) lets a reconnect resume from it."""
        body = self.document.model_dump(mode="json")
        body["updated_at"] = rfc3339_millis(self.document.updated_at)
        return f"id: {body['updated_at']}\nevent: inbox\ndata: {json.dumps(body)}\n\n"


def inbox_stream(
    feed: BatchFeed,
    user_id: uuid.UUID,
    since: datetime,
    keepalive_seconds: float,
    ends_at: float,
    revoked: asyncio.Event,
) -> AsyncGenerator[str, None]:
    """The SSE body of a user's inbox: `ready`, then an `inbox` event per document written
    (created or rewritten) at or after `since`."""
    query = (
        feed.client.collection(user_inbox(user_id))
        .where(filter=FieldFilter("updated_at", ">=", since))
        .order_by("updated_at")
    )
    listening = feed.listen_query(query, InboxEvent.from_document, ("ADDED", "MODIFIED"))
    ready = {"user_id": str(user_id)}
    return relay_stream(listening, ready, keepalive_seconds, ends_at, INBOX_EVENTS_RELAYED, revoked)
