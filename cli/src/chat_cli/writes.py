"""Counting the Firestore writes of one chat's inbox entries and read receipts.

Listeners on `users/{uid}/chats/{chat_id}` (each member's inbox entry) and on
`chats/{chat_id}/receipts`: every version a listener delivers has its own update time, so
the distinct update times per document count the writes it saw. Firestore may fold
writes that follow each other closely into one snapshot, so this is a lower bound; the
emulator delivers each one.
"""

import threading
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from google.cloud import firestore

from chat_common.contract.documents import (
    InboxDocument,
    ReceiptDocument,
    chat_receipts,
    inbox_path,
)


class ChatWrites:
    """The inbox entries and receipts of one chat, as listeners see them being written."""

    def __init__(self, client: firestore.Client, chat_id: str, members: Iterable[str]) -> None:
        self.client = client
        self.chat_id = chat_id
        self.members = list(members)
        self._lock = threading.Lock()
        self._versions: dict[str, set[Any]] = {}
        self.inbox: dict[str, InboxDocument] = {}
        self.receipts: dict[str, ReceiptDocument] = {}
        self._watches: list[Any] = []

    def __enter__(self) -> "ChatWrites":
        for user_id in self.members:
            reference = self.client.document(inbox_path(user_id, self.chat_id))
            self._watches.append(reference.on_snapshot(self._on_inbox))
        receipts = self.client.collection(chat_receipts(self.chat_id))
        self._watches.append(receipts.on_snapshot(self._on_receipts))
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        for watch in self._watches:
            watch.unsubscribe()

    def _seen(self, snapshot: Any) -> None:
        self._versions.setdefault(snapshot.reference.path, set()).add(snapshot.update_time)

    def _on_inbox(self, snapshots: Any, _changes: Any, _read_time: Any) -> None:
        with self._lock:
            for snapshot in snapshots:
                if snapshot.exists:
                    self._seen(snapshot)
                    document = InboxDocument.from_firestore(snapshot.to_dict() or {})
                    self.inbox[snapshot.reference.parent.parent.id] = document

    def _on_receipts(self, snapshots: Any, _changes: Any, _read_time: Any) -> None:
        with self._lock:
            for snapshot in snapshots:
                self._seen(snapshot)
                self.receipts[snapshot.id] = ReceiptDocument.from_firestore(
                    snapshot.to_dict() or {}
                )

    def writes(self) -> tuple[int, int]:
        """(inbox writes, receipt writes) seen so far."""
        with self._lock:
            inbox = sum(len(v) for path, v in self._versions.items() if path.startswith("users/"))
            receipts = sum(len(v) for path, v in self._versions.items() if "/receipts/" in path)
        return inbox, receipts
