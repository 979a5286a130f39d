"""Reading what the aggregator wrote: query listeners that stamp arrivals, and reads."""

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from chat_common.contract.documents import BatchDocument, chat_batches
from chat_common.contract.times import time_order

LISTEN_TIMEOUT_SECONDS = 30.0
DELETE_BATCH = 500  # deletes per batched commit


def batches(db: firestore.Client, chat_id: str, since: datetime) -> Any:
    """A chat's batch documents whose last message is at or after `since`."""
    return db.collection(chat_batches(chat_id)).where(
        filter=FieldFilter("last_sent_at", ">=", since)
    )


def message_ids(data: dict[str, Any]) -> list[str]:
    """The ids of the messages a batch document carries."""
    return [str(m.id) for m in BatchDocument.from_firestore(data).messages]


class Watch:
    """A query listener: what changed after its first snapshot, and when each doc came.

    Firestore calls back on its own thread; the first snapshot is the state before the
    run and is not counted. `notify` is called (on that thread) after every later one.
    """

    def __init__(self, query: Any, notify: Callable[[], None]) -> None:
        self.added: dict[str, tuple[float, dict[str, Any]]] = {}  # id -> (arrival, data)
        # id -> when Firestore committed the document (its create_time; the emulator runs
        # on this machine's clock): the listener's own delivery time apart.
        self.created: dict[str, float] = {}
        self.changes = 0
        self.versions: list[tuple[float, dict[str, Any]]] = []  # every version that came
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._notify = notify
        self._watch = query.on_snapshot(self._on_snapshot)

    def _on_snapshot(self, _docs: Any, changes: Any, _read_time: Any) -> None:
        arrival = time.time()
        if not self._ready.is_set():
            self._ready.set()
            return
        with self._lock:
            for change in changes:
                self.changes += 1
                data = change.document.to_dict() or {}
                if change.type.name != "REMOVED":
                    self.versions.append((arrival, data))
                if change.type.name == "ADDED":
                    self.added.setdefault(change.document.id, (arrival, data))
                    if change.document.create_time is not None:
                        created = change.document.create_time.timestamp()
                        self.created.setdefault(change.document.id, created)
        self._notify()

    def wait_ready(self) -> None:
        if not self._ready.wait(LISTEN_TIMEOUT_SECONDS):
            raise RuntimeError("a Firestore listener got no first snapshot")

    def arrivals(self) -> dict[str, float]:
        """Message id -> when the first document holding it reached this listener."""
        with self._lock:
            found: dict[str, float] = {}
            for arrival, data in self.added.values():
                for message_id in message_ids(data):
                    found.setdefault(message_id, arrival)
            return found

    def commits(self) -> dict[str, float]:
        """Message id -> when Firestore committed the first document holding it."""
        with self._lock:
            found: dict[str, float] = {}
            for doc_id, (_, data) in self.added.items():
                if doc_id in self.created:
                    for message_id in message_ids(data):
                        found.setdefault(message_id, self.created[doc_id])
            return found

    def inbox_arrivals(self, sent: dict[str, float]) -> dict[str, float]:
        """Message id -> when an inbox document first showed it or a newer message as its
        `last_message` (writes are coalesced: a document shows the newest it has)."""
        with self._lock:
            shown = sorted(
                (arrival, time_order(uuid.UUID(data["last_message"]["id"])))
                for arrival, data in self.versions
                if data.get("last_message")
            )
        found: dict[str, float] = {}
        for message_id in sent:
            order = time_order(uuid.UUID(message_id))
            first = next((arrival for arrival, last in shown if last >= order), None)
            if first is not None:
                found[message_id] = first
        return found

    def close(self) -> None:
        self._watch.unsubscribe()


def message_counts(db: firestore.Client, chat_ids: Iterable[str], since: datetime) -> Counter[str]:
    """How many batch documents hold each message id, over the chats' batches since `since`."""
    counts: Counter[str] = Counter()
    for chat_id in chat_ids:
        for snapshot in batches(db, chat_id, since).stream():
            counts.update(message_ids(snapshot.to_dict() or {}))
    return counts


def delete_batches(db: firestore.Client, chat_ids: Iterable[str], since: datetime) -> int:
    """Delete the chats' batch documents since `since` (the emulator keeps every document
    in memory, so a run takes away what it made); how many were deleted."""
    deleted = 0
    for chat_id in chat_ids:
        refs = [snapshot.reference for snapshot in batches(db, chat_id, since).stream()]
        for offset in range(0, len(refs), DELETE_BATCH):
            batch = db.batch()
            for ref in refs[offset : offset + DELETE_BATCH]:
                batch.delete(ref)
            batch.commit()
        deleted += len(refs)
    return deleted
