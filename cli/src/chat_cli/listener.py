"""Listening to a chat's Firestore batches (`chats/{chat_id}/batches`, by last_sent_at)."""

import queue
from datetime import datetime
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from chat_cli.errors import CliError, ServerDown
from chat_cli.timeline import Batch
from chat_common.contract.documents import chat_batches

PROBE_TIMEOUT_SECONDS = 5.0


class BatchListener:
    """A query listener on one chat's batches whose `last_sent_at` is at or after `since`.

    Firestore calls back on its own thread; each call's added documents are handed to
    the caller through a queue, in the query's order (last_sent_at).
    """

    def __init__(self, client: firestore.Client, chat_id: str, since: datetime) -> None:
        self.client = client
        self.query = (
            client.collection(chat_batches(chat_id))
            .where(filter=FieldFilter("last_sent_at", ">=", since))
            .order_by("last_sent_at")
        )
        self.updates: queue.Queue[list[Batch]] = queue.Queue()
        self._watch: Any = None

    def _on_snapshot(self, _docs: Any, changes: Any, _read_time: Any) -> None:
        # Batch documents are created once and never changed, so only additions matter.
        added = [
            Batch.from_document(change.document.id, change.document.to_dict() or {})
            for change in changes
            if change.type.name == "ADDED"
        ]
        if added:
            self.updates.put(added)

    def start(self, where: str) -> None:
        """Probe Firestore (one bounded read), then listen."""
        try:
            list(self.query.limit(1).stream(timeout=PROBE_TIMEOUT_SECONDS))
        except (gexc.ServiceUnavailable, gexc.DeadlineExceeded, gexc.RetryError) as exc:
            raise ServerDown("Firestore", where) from exc
        except gexc.GoogleAPIError as exc:
            raise CliError(f"Firestore refused the listener: {exc}") from exc
        self._watch = self.query.on_snapshot(self._on_snapshot)

    def next(self, timeout: float) -> list[Batch] | None:
        """The next added batches, or None when nothing came within `timeout` seconds."""
        try:
            return self.updates.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        """Stop listening and close the client (callers hold it in `contextlib.closing`)."""
        if self._watch is not None:
            self._watch.unsubscribe()
            self._watch = None
        self.client.close()
