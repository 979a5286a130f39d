"""The realtime relay: a chat's Firestore batches, listened to and framed as Server-Sent Events.

Browsers cannot reach the gRPC-only Firestore emulator, so the chat service listens for
them: one Firestore query listener per open stream on `chats/{chat_id}/batches`, ordered
by `last_sent_at` (the order DESIGN.md gives clients), forwarding each batch document as
it is added. Firestore stays the realtime source; history stays in Cassandra.
"""

import asyncio
import contextlib
import json
import logging
import threading
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Collection, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from google.cloud.firestore_v1.base_query import FieldFilter
from prometheus_client import Counter, Gauge

from chat_common.contract.documents import BatchDocument, chat_batches
from chat_common.contract.times import rfc3339_millis
from chat_service.api.schemas import MessagePublic
from chat_service.api.sse import RelayEvent, Updates, relay_stream
from chat_service.domain.ports import DocumentSource

logger = logging.getLogger(__name__)

STREAMS_OPENED = Counter("chat_event_streams_opened_total", "SSE relay streams opened.")
STREAMS_OPEN = Gauge(
    "chat_event_streams_open", "Firestore listeners of SSE relay streams open now."
)
STREAMS_OVERFLOWED = Counter(
    "chat_event_streams_overflowed_total", "SSE relay streams ended because the client lagged."
)
BATCHES_RELAYED = Counter(
    "chat_event_batches_relayed_total", "Firestore batch documents forwarded to SSE streams."
)


@dataclass(frozen=True, slots=True)
class BatchEvent:
    """One batch document (the contract's `BatchDocument`) as the relay forwards it."""

    id: str
    document: BatchDocument

    @classmethod
    def from_document(cls, doc_id: str, data: Mapping[str, Any]) -> "BatchEvent":
        return cls(id=doc_id, document=BatchDocument.from_firestore(data))

    def to_sse(self) -> str:
        """An SSE `batch` event; its id (last_sent_at) lets a reconnect resume from it."""
        doc = self.document
        chat_id, sender_id = str(doc.chat_id), str(doc.sender_id)
        last_sent_at = rfc3339_millis(doc.last_sent_at)
        body = {
            "id": self.id,
            "chat_id": chat_id,
            "sender_id": sender_id,
            "count": doc.count,
            # Each message is the REST API's message (one type), so a client merges realtime
            # and history with one code path.
            "messages": [
                MessagePublic(
                    id=message.id,
                    chat_id=doc.chat_id,
                    sender_id=doc.sender_id,
                    text=message.text,
                    sent_at=message.sent_at,
                ).model_dump(mode="json")
                for message in doc.messages
            ],
            # Clients apply these to messages they show; a delete is final, so an edit of
            # a message they know deleted is ignored (see message_changes).
            "edits": [
                {"id": str(e.id), "text": e.text, "edited_at": rfc3339_millis(e.edited_at)}
                for e in doc.edits
            ],
            "deletes": [
                {"id": str(d.id), "deleted_at": rfc3339_millis(d.deleted_at)} for d in doc.deletes
            ],
            "first_sent_at": rfc3339_millis(doc.first_sent_at),
            "last_sent_at": last_sent_at,
        }
        return f"id: {last_sent_at}\nevent: batch\ndata: {json.dumps(body)}\n\n"


def parse_since(value: str | None) -> datetime | None:
    """An RFC 3339 instant (a `since` parameter or a Last-Event-ID), None when unusable."""
    if not value:
        return None
    try:
        instant = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def stream_start(
    cursor: datetime | None, now: datetime, lookback: timedelta, replay: timedelta
) -> datetime:
    """Where a stream's query starts: `lookback` before a resume cursor, else `replay` ago.

    Batch documents are not created in `last_sent_at` order (an eager one at once, a
    window one after its window, a retried one later still), so a batch written after the
    cursor's may carry an earlier `last_sent_at`. Starting from before the cursor by the
    window plus that lateness re-sends a few batches instead of skipping one; clients keep
    each message once, by id.
    """
    return cursor - lookback if cursor is not None else now - replay


# A document (id, fields) as the event a stream forwards.
DocumentParser = Callable[[str, Mapping[str, Any]], RelayEvent]


@dataclass(eq=False)  # compared and hashed by identity: its bound method is a callback
class _Delivery:
    """Hands a listener's callbacks (its own thread) to the stream's bounded queue."""

    loop: asyncio.AbstractEventLoop
    updates: Updates
    parse: DocumentParser
    kinds: Collection[str]
    closed: bool = False
    overflowed: bool = False

    def on_snapshot(self, _docs: Any, changes: Any, _read_time: Any) -> None:
        if self.closed:
            return
        added = [
            self.parse(change.document.id, change.document.to_dict() or {})
            for change in changes
            if change.type.name in self.kinds
        ]
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is listening
            self.loop.call_soon_threadsafe(self._put, added)

    def _put(self, added: list[RelayEvent]) -> None:
        if self.overflowed:
            return
        # The last place is kept for the overflow marker: memory per stream stays bounded,
        # and the client reconnects from its Last-Event-ID instead of losing batches.
        if self.updates.qsize() >= self.updates.maxsize - 1:
            self.overflowed = True
            STREAMS_OVERFLOWED.inc()
            self.updates.put_nowait(None)
        else:
            self.updates.put_nowait(added)


def _close_listener(watch: Any, counted: bool) -> None:
    """Unsubscribe on a thread of its own, started without awaiting anything.

    Awaiting an executor from a stream's `finally` is not enough: Starlette cancels the
    stream's scope, the await is cancelled, and a busy executor never runs the close, so
    the watch thread and its gRPC stream would outlive the stream.
    """

    def close() -> None:
        try:
            watch.unsubscribe()
        except Exception as exc:  # closing a broken listener: it is gone either way
            logger.warning("closing a Firestore listener failed: %r", exc)
        finally:
            if counted:
                STREAMS_OPEN.dec()

    threading.Thread(target=close, name="sse-listener-close", daemon=True).start()


def _close_if_opened(opening: "Future[Any]") -> None:
    if not opening.cancelled() and opening.exception() is None:
        _close_listener(opening.result(), counted=False)


class BatchFeed:
    """Query listeners on chats' batch collections, bridged to bounded asyncio queues."""

    def __init__(self, client: DocumentSource, queue_size: int, open_threads: int) -> None:
        self.client = client
        self.queue_size = queue_size
        # Opening a listen stream blocks on gRPC: keep it off the event loop, on threads
        # of our own so a busy default executor does not hold streams up.
        self._opener = ThreadPoolExecutor(open_threads, thread_name_prefix="sse-listener-open")

    def listen(
        self, chat_id: uuid.UUID, since: datetime
    ) -> contextlib.AbstractAsyncContextManager[Updates]:
        """A queue of the batches added at or after `since`, each callback's as one list.

        The first item is the listener's initial snapshot (possibly empty): from then on
        nothing written is missed. A None item means the reader fell `queue_size` callbacks
        behind; nothing follows it. The listener is closed on exit whatever happens,
        also when the open itself is cancelled.
        """
        query = (
            self.client.collection(chat_batches(chat_id))
            .where(filter=FieldFilter("last_sent_at", ">=", since))
            .order_by("last_sent_at")
        )
        # Batch documents are never changed once written: only additions matter.
        return self.listen_query(query, BatchEvent.from_document, ("ADDED",))

    @contextlib.asynccontextmanager
    async def listen_query(
        self, query: Any, parse: DocumentParser, kinds: Collection[str]
    ) -> AsyncIterator[Updates]:
        """`listen` for any query: its documents' changes of `kinds` (ADDED, MODIFIED,
        REMOVED), each parsed into the event a stream forwards."""
        updates: Updates = asyncio.Queue(maxsize=self.queue_size + 1)
        delivery = _Delivery(asyncio.get_running_loop(), updates, parse, kinds)
        opening = self._opener.submit(query.on_snapshot, delivery.on_snapshot)
        try:
            watch = await asyncio.wrap_future(opening)
        except BaseException:
            # Cancelled (the client left) or failed: a listener that opens after all is
            # closed as soon as it exists.
            delivery.closed = True
            opening.add_done_callback(_close_if_opened)
            raise
        STREAMS_OPENED.inc()
        STREAMS_OPEN.inc()
        try:
            yield updates
        finally:
            delivery.closed = True
            _close_listener(watch, counted=True)

    def close(self) -> None:
        self._opener.shutdown(wait=False, cancel_futures=True)
        self.client.close()


def event_stream(
    feed: BatchFeed,
    chat_id: uuid.UUID,
    since: datetime,
    keepalive_seconds: float,
    ends_at: float,
    revoked: asyncio.Event,
) -> AsyncGenerator[str, None]:
    """The SSE body of a chat: `ready` once listening, then one `batch` event per document."""
    listening = feed.listen(chat_id, since)
    ready = {"chat_id": str(chat_id)}
    return relay_stream(listening, ready, keepalive_seconds, ends_at, BATCHES_RELAYED, revoked)
