"""A send writes its bucket's index row until this process's own write of it was
acknowledged; every doubt (a failed write, a forgotten bucket) writes it again."""

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

import pytest

from chat_service.domain.errors import StoreUnavailable
from chat_service.domain.model import Message
from chat_service.domain.timeuuids import new_message_id
from chat_service.store.indexed_buckets import IndexedBuckets
from chat_service.store.messages import MessageRows


class RecordingStore:
    """Records each request as the statement names it carries; fails while told to."""

    def __init__(self) -> None:
        self.requests: list[list[str]] = []
        self.failing = False

    async def execute(self, name: str, params: Sequence[object] | None = None) -> list[Any]:
        return await self._request([name])

    async def execute_batch(
        self, statements: Sequence[tuple[str, Any]], logged: bool = True
    ) -> None:
        assert not logged
        await self._request([name for name, _ in statements])

    async def _request(self, names: list[str]) -> list[Any]:
        if self.failing:
            raise StoreUnavailable("down")
        self.requests.append(names)
        return []


def _message(chat_id: uuid.UUID) -> Message:
    return Message(id=new_message_id(), chat_id=chat_id, sender_id=uuid.uuid4(), text="hi")


def test_the_index_row_goes_with_the_first_message_of_a_bucket_only() -> None:
    store = RecordingStore()
    rows = MessageRows(store)  # type: ignore[arg-type]
    chat, other = uuid.uuid4(), uuid.uuid4()
    for chat_id, bucket in [(chat, 0), (chat, 0), (chat, 3600), (other, 0), (chat, 3600)]:
        asyncio.run(rows.store_message(_message(chat_id), bucket))
    assert store.requests == [
        ["insert_message", "insert_bucket"],
        ["insert_message"],
        ["insert_message", "insert_bucket"],  # a new bucket
        ["insert_message", "insert_bucket"],  # another chat
        ["insert_message"],
    ]


def test_a_failed_write_leaves_the_bucket_to_be_written_again() -> None:
    store = RecordingStore()
    rows = MessageRows(store)  # type: ignore[arg-type]
    chat = uuid.uuid4()
    store.failing = True
    with pytest.raises(StoreUnavailable):
        asyncio.run(rows.store_message(_message(chat), 0))
    store.failing = False
    asyncio.run(rows.store_message(_message(chat), 0))
    assert store.requests == [["insert_message", "insert_bucket"]]


def test_the_oldest_bucket_is_forgotten_beyond_the_size() -> None:
    indexed = IndexedBuckets(size=2)
    a, b, c = (uuid.uuid4() for _ in range(3))
    indexed.acknowledged(a, 0)
    indexed.acknowledged(b, 0)
    indexed.acknowledged(a, 0)  # used again: now the newest
    indexed.acknowledged(c, 0)
    assert (a, 0) in indexed and (c, 0) in indexed
    assert (b, 0) not in indexed and len(indexed) == 2
