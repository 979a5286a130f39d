"""The page walk over buckets, against an in-memory stand-in of the store (MessagePages)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from cassandra.util import uuid_from_time

from chat_common.contract.times import unix_micros
from chat_service.domain.history import read_history
from chat_service.domain.model import Chat, Message, chat_id_for
from chat_service.domain.timeuuids import bucket_start

BUCKET = 60


class BucketedMessages:
    """Messages grouped like the `message` and `message_bucket` tables; counts reads."""

    def __init__(self, messages: list[Message]) -> None:
        self.buckets: dict[int, list[Message]] = {}
        for message in messages:
            self.buckets.setdefault(bucket_start(message.id, BUCKET), []).append(message)
        self.reads = 0

    async def list_buckets(
        self, chat_id: uuid.UUID, at_or_before: int | None, limit: int
    ) -> list[int]:
        self.reads += 1
        keys = sorted(
            (b for b in self.buckets if at_or_before is None or b <= at_or_before), reverse=True
        )
        return keys[:limit]

    async def list_messages(
        self, chat_id: uuid.UUID, bucket: int, before: uuid.UUID | None, limit: int
    ) -> list[Message]:
        self.reads += 1
        rows = sorted(self.buckets[bucket], key=lambda m: unix_micros(m.id), reverse=True)
        if before is not None:
            rows = [m for m in rows if unix_micros(m.id) < unix_micros(before)]
        return rows[:limit]


def _chat() -> Chat:
    a, b = sorted((uuid.uuid4(), uuid.uuid4()))
    return Chat(id=chat_id_for(a, b), members=(a, b), created_at=datetime(2024, 1, 1, tzinfo=UTC))


def _messages(chat: Chat, times: list[datetime]) -> list[Message]:
    return [
        Message(id=uuid_from_time(t), chat_id=chat.id, sender_id=chat.members[0], text=str(i))
        for i, t in enumerate(times)
    ]


async def _walk(store: BucketedMessages, chat: Chat, quantity: int) -> list[list[Message]]:
    pages: list[list[Message]] = []
    before = None
    while True:
        items, before = await read_history(store, chat.id, before, quantity)
        pages.append(items)
        if before is None:
            return pages


@pytest.mark.parametrize("quantity", [1, 3, 7, 10, 25])
async def test_walk_returns_everything_once_newest_first(quantity: int) -> None:
    chat = _chat()
    start = datetime(2024, 5, 1, tzinfo=UTC)
    # Uneven gaps: several per bucket, long silences, a lone message far back.
    offsets = [0, 1, 2, 59, 61, 62, 500, 501, 3600 * 24 * 30, 3600 * 24 * 30 + 5]
    offsets += [4000 + i * 7 for i in range(15)]
    messages = _messages(chat, [start + timedelta(seconds=s) for s in offsets])
    pages = await _walk(BucketedMessages(messages), chat, quantity)
    flat = [m.id for page in pages for m in page]
    expected = [m.id for m in sorted(messages, key=lambda m: unix_micros(m.id), reverse=True)]
    assert flat == expected
    assert all(len(page) == quantity for page in pages[:-1])


async def test_exactly_quantity_left_ends_with_no_next_time() -> None:
    chat = _chat()
    start = datetime(2024, 5, 1, tzinfo=UTC)
    messages = _messages(chat, [start + timedelta(seconds=s * 30) for s in range(10)])
    store = BucketedMessages(messages)
    items, next_time = await read_history(store, chat.id, None, 5)
    assert len(items) == 5 and next_time == items[-1].id
    items, next_time = await read_history(store, chat.id, next_time, 5)
    assert len(items) == 5 and next_time is None


async def test_empty_chat() -> None:
    chat = _chat()
    assert await read_history(BucketedMessages([]), chat.id, None, 10) == ([], None)


async def test_page_cost_does_not_grow_with_depth() -> None:
    chat = _chat()
    start = datetime(2024, 5, 1, tzinfo=UTC)
    # 20 messages per bucket across 500 buckets with gaps between them.
    times = [start + timedelta(seconds=b * BUCKET * 3 + i) for b in range(500) for i in range(20)]
    messages = _messages(chat, times)
    store = BucketedMessages(messages)
    newest_first = sorted(messages, key=lambda m: unix_micros(m.id), reverse=True)
    costs = []
    for depth in (100, 9000):
        store.reads = 0
        items, _ = await read_history(store, chat.id, newest_first[depth].id, 10)
        assert [m.id for m in items] == [m.id for m in newest_first[depth + 1 : depth + 11]]
        costs.append(store.reads)
    assert costs[0] == costs[1]
    assert costs[0] <= 4
