"""The consume loop with a consumer, a projection and a dead-letter topic in memory: commit
order behind the writes, replays, poison records, stores that are down, rebalances."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from consume_fakes import FakeConsumer, FakeDeadLetterSink, FakeProjection, partition
from prometheus_client import REGISTRY

from chat_common.consume import loop as loop_module
from chat_common.consume.dead_letters import DeadLetters
from chat_common.consume.loop import ConsumeLoop
from chat_common.waiting import wait_until

GROUP = "test-group"
WAIT = 5.0


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loop_module, "FIRST_RETRY_SECONDS", 0.01)
    monkeypatch.setattr(loop_module, "MAX_RETRY_SECONDS", 0.02)


def log(*values: str) -> list[bytes]:
    return [value.encode() for value in values]


@contextlib.asynccontextmanager
async def running(
    consumer: FakeConsumer, projection: FakeProjection, sink: FakeDeadLetterSink, **kw: int
) -> AsyncIterator[ConsumeLoop]:
    loop = ConsumeLoop(
        lambda: consumer,  # type: ignore[arg-type,return-value]
        GROUP,
        ["events"],
        projection,
        DeadLetters(sink, GROUP, {"events": "events-dlq"}),
        **kw,
    )
    task = asyncio.create_task(loop.run())
    try:
        yield loop
    finally:
        loop.stop()
        await asyncio.wait_for(task, WAIT)


def committed(consumer: FakeConsumer, at: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return consumer.committed.get(partition()) == at

    return check


async def test_offsets_are_committed_only_behind_the_writes() -> None:
    consumer = FakeConsumer({partition(): log("1", "2", "3")})
    projection = FakeProjection(sink_down=True)
    async with running(consumer, projection, FakeDeadLetterSink()) as loop:
        await wait_until(lambda: _true(projection.applied == [0, 1, 2]), "applied", WAIT, 0.01)
        await wait_until(lambda: _true(loop.paused), "paused on failing writes", WAIT, 0.01)
        # Applied but not written: only the start position may be committed.
        assert consumer.committed.get(partition(), 0) == 0
        projection.sink_down = False
        await wait_until(committed(consumer, 3), "commit after the writes", WAIT, 0.01)
        assert projection.written == [0, 1, 2]
        assert not loop.paused


async def test_a_restart_replays_from_the_committed_offset() -> None:
    consumer = FakeConsumer({partition(): log("1", "2")})
    projection = FakeProjection(sink_down=True)
    async with running(consumer, projection, FakeDeadLetterSink()):
        await wait_until(lambda: _true(projection.applied == [0, 1]), "applied", WAIT, 0.01)
    # Stopped with nothing written (the final flush gave up): nothing committed past 0.
    assert consumer.committed.get(partition(), 0) == 0
    again = FakeConsumer({partition(): log("1", "2")})
    again.committed = dict(consumer.committed)
    replayed = FakeProjection()
    async with running(again, replayed, FakeDeadLetterSink()):
        await wait_until(committed(again, 2), "the replay committed", WAIT, 0.01)
    assert replayed.written == [0, 1]


async def test_a_record_that_cannot_be_decoded_is_dead_lettered_and_passed() -> None:
    consumer = FakeConsumer({partition(): log("1", "poison", "skip", "4")})
    projection, sink = FakeProjection(), FakeDeadLetterSink()
    async with running(consumer, projection, sink, max_failures=2):
        await wait_until(committed(consumer, 4), "commit past the poison", WAIT, 0.01)
    assert projection.written == [0, 3]
    ((topic, value, headers),) = sink.sent
    assert (topic, value) == ("events-dlq", b"poison")
    assert headers["group"] == GROUP.encode()
    assert headers["source"] == b"events/0/1"
    assert headers["attempts"] == b"2"
    assert b"not a number" in headers["error"]


async def test_a_record_that_always_fails_is_dead_lettered_after_max_failures() -> None:
    consumer = FakeConsumer({partition(): log("1", "bug", "3")})
    projection, sink = FakeProjection(), FakeDeadLetterSink()
    async with running(consumer, projection, sink, max_failures=3):
        await wait_until(committed(consumer, 3), "commit past the broken record", WAIT, 0.01)
    assert projection.written == [0, 2]
    ((_, value, headers),) = sink.sent
    assert (value, headers["attempts"]) == (b"bug", b"3")
    assert b"ValueError" in headers["error"]


async def test_a_store_that_is_down_is_retried_and_never_dead_letters() -> None:
    consumer = FakeConsumer({partition(): log("1", "2")})
    projection, sink = FakeProjection(store_down=True), FakeDeadLetterSink()
    async with running(consumer, projection, sink, max_failures=1):
        await wait_until(lambda: _true(projection.apply_calls >= 5), "retries", WAIT, 0.01)
        assert consumer.committed.get(partition(), 0) == 0
        projection.store_down = False
        await wait_until(committed(consumer, 2), "commit once the store is back", WAIT, 0.01)
    assert sink.sent == []
    assert projection.written == [0, 1]


def refused_produces() -> float:
    labels = {"group": GROUP, "topic": "events"}
    return REGISTRY.get_sample_value("chat_dead_letter_failures_total", labels) or 0.0


async def test_a_record_the_dead_letter_topic_refuses_holds_its_partition() -> None:
    consumer = FakeConsumer({partition(): log("poison", "2")})
    projection, sink = FakeProjection(), FakeDeadLetterSink(refusing=True)
    before = refused_produces()
    async with running(consumer, projection, sink, max_failures=1):
        await wait_until(
            lambda: _true(refused_produces() >= before + 2), "refused twice", WAIT, 0.01
        )
        # Never passed: nothing behind it applied, nothing committed.
        assert projection.applied == []
        assert consumer.committed.get(partition(), 0) == 0
        sink.refusing = False
        await wait_until(committed(consumer, 2), "commit once parked", WAIT, 0.01)
    assert [value for _, value, _ in sink.sent] == [b"poison"]
    assert projection.written == [1]


async def test_a_revoke_writes_and_commits_before_the_partitions_go() -> None:
    consumer = FakeConsumer({partition(): log("1", "2")})
    projection = FakeProjection()
    async with running(consumer, projection, FakeDeadLetterSink()) as loop:
        await wait_until(committed(consumer, 2), "commit", WAIT, 0.01)
        await consumer.revoke_all()
        assert loop.ledger.assigned == []
    assert projection.written == [0, 1]


async def test_a_consumer_that_fails_is_replaced_and_nothing_is_lost() -> None:
    consumer = FakeConsumer({partition(): log("1", "2")})
    consumer.failing_polls = 1
    projection = FakeProjection()
    async with running(consumer, projection, FakeDeadLetterSink()):
        await wait_until(committed(consumer, 2), "commit after the restart", WAIT, 0.01)
    assert consumer.starts == 2
    assert projection.written == [0, 1]


async def _true(value: bool) -> bool:
    return value
