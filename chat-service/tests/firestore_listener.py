"""A Firestore listener for tests: every version of a document (or of a collection's
documents) it receives, and a bounded wait for one that satisfies a condition."""

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import pytest

from chat_common.contract.firestore import firestore_client
from chat_service.config import Settings

# A bound on waiting for the inbox consumer or the aggregator, generous for a loaded machine.
WAIT_SECONDS = 45.0


class DocumentListener:
    """Every version of the documents a Firestore listener (of one document, or of a
    collection) receives, as their fields."""

    def __init__(self, path: str, settings: Settings, collection: bool = False) -> None:
        self._loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()
        self.snapshots: list[dict[str, Any]] = []
        client = firestore_client(settings.FIRESTORE_PROJECT, settings.FIRESTORE_EMULATOR_HOST)
        ref = client.collection(path) if collection else client.document(path)
        self._watch = ref.on_snapshot(self._on_snapshot)

    def _on_snapshot(self, docs: list[Any], changes: object, read_time: object) -> None:
        for doc in docs:
            if doc.exists:
                data = doc.to_dict()
                self._loop.call_soon_threadsafe(self._add, data)

    def _add(self, data: dict[str, Any]) -> None:
        self.snapshots.append(data)
        self._changed.set()

    async def until(self, what: str, holds: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The first snapshot for which `holds` is true; fails after WAIT_SECONDS."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            for data in self.snapshots:
                if holds(data):
                    return data
            self._changed.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"listener never saw {what}; last: {self.snapshots[-1:]}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    def close(self) -> None:
        self._watch.unsubscribe()
