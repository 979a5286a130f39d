"""BatchFeed's listener lifecycle with a fake Firestore query: closed whatever happens,
and a bounded queue per stream."""

import asyncio
import contextlib
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chat_common.contract.documents import BatchDocument, BatchMessage
from chat_service.api.realtime import STREAMS_OPEN, BatchFeed, stream_start

WAIT = 5.0


class FakeWatch:
    def __init__(self) -> None:
        self.unsubscribed = threading.Event()

    def unsubscribe(self) -> None:
        self.unsubscribed.set()


class FakeQuery:
    """Stands for client.collection().document().collection().where().order_by()."""

    def __init__(self) -> None:
        self.watch = FakeWatch()
        self.may_open = threading.Event()
        self.may_open.set()
        self.callback: Any = None

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: self

    def on_snapshot(self, callback: Any) -> FakeWatch:
        self.may_open.wait(WAIT)
        self.callback = callback
        return self.watch


_SENDER = uuid.uuid4()
DOCUMENT = BatchDocument.of(
    chat_id=uuid.uuid4(),
    sender_id=_SENDER,
    members=(_SENDER, uuid.uuid4()),
    messages=[BatchMessage.of(uuid.uuid1(), "hi")],
    created_at=datetime.now(UTC),
    ttl=timedelta(hours=1),
).to_firestore()


class Change:
    class type:  # noqa: N801 - mirrors the SDK's change.type.name
        name = "ADDED"

    id = "doc"

    def __init__(self) -> None:
        self.document = self

    def to_dict(self) -> dict[str, Any]:
        return DOCUMENT


def feed_of(query: FakeQuery, queue_size: int = 4) -> BatchFeed:
    return BatchFeed(query, queue_size=queue_size, open_threads=2)


async def test_listener_is_closed_when_the_stream_is_cancelled_with_the_executor_busy() -> None:
    query = FakeQuery()
    feed = feed_of(query)
    opened = asyncio.Event()
    before = STREAMS_OPEN._value.get()

    async def stream() -> None:
        async with feed.listen(uuid.uuid4(), datetime.now(UTC)):
            opened.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(stream())
    await asyncio.wait_for(opened.wait(), WAIT)
    assert STREAMS_OPEN._value.get() == before + 1
    # Every default-executor thread is stuck: a close queued there would never run.
    release = threading.Event()
    loop = asyncio.get_running_loop()
    blockers = [loop.run_in_executor(None, release.wait, WAIT) for _ in range(64)]
    try:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert query.watch.unsubscribed.wait(WAIT)
    finally:
        release.set()
        await asyncio.gather(*blockers)
    # The gauge goes down once the close has finished, on the closing thread.
    for thread in threading.enumerate():
        if thread.name == "sse-listener-close":
            thread.join(WAIT)
    assert STREAMS_OPEN._value.get() == before
    feed.close()


async def test_a_listener_that_opens_after_the_open_was_cancelled_is_closed() -> None:
    query = FakeQuery()
    query.may_open.clear()
    feed = feed_of(query)

    async def stream() -> None:
        async with feed.listen(uuid.uuid4(), datetime.now(UTC)):
            pytest.fail("the stream was cancelled while opening")

    task = asyncio.create_task(stream())
    await asyncio.sleep(0)  # let it submit the open
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert not query.watch.unsubscribed.is_set()
    query.may_open.set()  # the open completes now, with nobody waiting for it
    assert query.watch.unsubscribed.wait(WAIT)
    feed.close()


async def test_a_slow_reader_gets_an_overflow_marker_not_an_unbounded_queue() -> None:
    query = FakeQuery()
    feed = feed_of(query, queue_size=3)
    async with feed.listen(uuid.uuid4(), datetime.now(UTC)) as updates:
        for _ in range(10):
            query.callback(None, [Change()], None)
        # Callbacks reach the queue through the loop: wait until the marker is in.
        items: list[Any] = []
        while None not in items:
            items.append(await asyncio.wait_for(updates.get(), WAIT))
    assert len(items) == 4 and items[:3] == [items[0]] * 3 and items[3] is None
    assert updates.empty()
    assert query.watch.unsubscribed.wait(WAIT)
    feed.close()


def test_resume_starts_before_the_cursor_and_a_fresh_stream_replays() -> None:
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    cursor = now - timedelta(seconds=5)
    lookback, replay = timedelta(seconds=30), timedelta(seconds=60)
    assert stream_start(cursor, now, lookback, replay) == cursor - lookback
    assert stream_start(None, now, lookback, replay) == now - replay
