"""The aggregation core with a fake clock: every completion condition, order, bytes, eager."""

import uuid

import pytest

from aggregator.aggregation import (
    DOCUMENT_OVERHEAD_BYTES,
    AggregationConfig,
    Aggregator,
    CompletedBy,
    FutureDated,
    Message,
)
from chat_common.contract.times import UUID_EPOCH_OFFSET, unix_millis

T0 = 1_800_000_000_000  # a window-aligned wall-clock millisecond


def uuid1_at(ms: int, sub: int = 0, node: int = 0x1234) -> uuid.UUID:
    t = (ms * 10_000) + UUID_EPOCH_OFFSET + sub
    return uuid.UUID(
        fields=(
            t & 0xFFFFFFFF,
            (t >> 32) & 0xFFFF,
            ((t >> 48) & 0x0FFF) | 0x1000,
            0x80,
            0x01,
            node,
        )
    )


def msg(
    ms: int, offset: int, sender: str = "alice", chat: str = "c1", text: str = "hi", sub: int = 0
) -> Message:
    mid = uuid1_at(ms, sub)
    return Message(mid, chat, sender, text, offset)


def test_uuid1_time_roundtrip() -> None:
    real = uuid.uuid1()
    assert uuid1_at(unix_millis(real)).time // 10_000 == real.time // 10_000
    assert unix_millis(uuid1_at(T0 + 5)) == T0 + 5


def test_first_message_of_a_quiet_sender_goes_out_eagerly_alone() -> None:
    agg = Aggregator(AggregationConfig(window_ms=1000))
    done = agg.add(msg(T0 + 100, 0), now_ms=T0 + 100)
    assert [(g.completed_by, len(g.messages)) for g in done] == [(CompletedBy.EAGER, 1)]
    assert agg.oldest_offset() is None


def test_burst_after_eager_is_aggregated_until_window_ends() -> None:
    agg = Aggregator(AggregationConfig(window_ms=1000, lateness_ms=200))
    agg.add(msg(T0 + 100, 0), T0 + 100)
    for i in range(1, 5):
        assert agg.add(msg(T0 + 100 + i * 100, i), T0 + 100 + i * 100) == []
    assert agg.oldest_offset() == 1
    assert agg.next_deadline_ms() == T0 + 1200
    assert agg.expire(T0 + 1199) == []
    (group,) = agg.expire(T0 + 1200)
    assert group.completed_by is CompletedBy.WINDOW
    assert [m.offset for m in group.messages] == [1, 2, 3, 4]
    assert group.window_start_ms == T0
    assert agg.oldest_offset() is None


def test_later_window_message_completes_the_earlier_window_at_once() -> None:
    agg = Aggregator(AggregationConfig(window_ms=1000))
    agg.add(msg(T0 + 100, 0), T0 + 100)  # eager
    agg.add(msg(T0 + 900, 1), T0 + 900)
    done = agg.add(msg(T0 + 1300, 2), T0 + 1300)  # not quiet: 400 ms since the last
    assert [(g.completed_by, [m.offset for m in g.messages]) for g in done] == [
        (CompletedBy.WINDOW, [1])
    ]
    assert agg.oldest_offset() == 2


def test_size_completion() -> None:
    agg = Aggregator(AggregationConfig(window_ms=1000, max_messages=3))
    agg.add(msg(T0, 0), T0)  # eager
    assert agg.add(msg(T0 + 1, 1), T0 + 1) == []
    assert agg.add(msg(T0 + 2, 2), T0 + 2) == []
    (group,) = agg.add(msg(T0 + 3, 3), T0 + 3)
    assert group.completed_by is CompletedBy.SIZE
    assert [m.offset for m in group.messages] == [1, 2, 3]
    # The rest of the window opens a second group under the same window.
    assert agg.add(msg(T0 + 4, 4), T0 + 4) == []
    (rest,) = agg.expire(T0 + 5000)
    assert rest.window_start_ms == group.window_start_ms
    assert [m.offset for m in rest.messages] == [4]


def test_bytes_completion_keeps_every_group_under_the_limit() -> None:
    text = "x" * 1000
    one = msg(T0, 0, text=text).size_bytes
    limit = DOCUMENT_OVERHEAD_BYTES + 2 * one + 10
    agg = Aggregator(AggregationConfig(window_ms=1000, max_bytes=limit))
    agg.add(msg(T0, 0, text=text), T0)  # eager
    agg.add(msg(T0 + 1, 1, text=text), T0 + 1)
    agg.add(msg(T0 + 2, 2, text=text), T0 + 2)
    (group,) = agg.add(msg(T0 + 3, 3, text=text), T0 + 3)
    assert group.completed_by is CompletedBy.BYTES
    assert [m.offset for m in group.messages] == [1, 2]
    assert DOCUMENT_OVERHEAD_BYTES + sum(m.size_bytes for m in group.messages) <= limit
    assert agg.oldest_offset() == 3


def test_messages_are_ordered_by_uuid_time_then_id_not_arrival() -> None:
    agg = Aggregator(AggregationConfig(window_ms=1000))
    agg.add(msg(T0, 0), T0)  # eager
    agg.add(msg(T0 + 50, 1), T0 + 60)
    agg.add(msg(T0 + 20, 2), T0 + 61)
    agg.add(msg(T0 + 20, 3, sub=5), T0 + 62)
    agg.add(msg(T0 + 20, 4, sub=1), T0 + 63)
    (group,) = agg.expire(T0 + 10_000)
    assert [m.offset for m in group.messages] == [2, 4, 3, 1]
    assert group.min_offset == 1


def test_duplicate_redelivery_is_held_once() -> None:
    agg = Aggregator(AggregationConfig(window_ms=1000))
    agg.add(msg(T0, 0), T0)
    m = msg(T0 + 10, 1)
    agg.add(m, T0 + 10)
    agg.add(Message(m.id, m.chat_id, m.sender_id, m.text, 7), T0 + 11)
    (group,) = agg.expire(T0 + 10_000)
    assert [m.offset for m in group.messages] == [1]


def test_correlation_by_chat_and_sender() -> None:
    agg = Aggregator(AggregationConfig(window_ms=1000))
    for i, (chat, sender) in enumerate([("c1", "a"), ("c1", "b"), ("c2", "a")]):
        agg.add(msg(T0, 10 * i, chat=chat, sender=sender), T0)  # eager each
        agg.add(msg(T0 + 5, 10 * i + 1, chat=chat, sender=sender), T0 + 5)
        agg.add(msg(T0 + 6, 10 * i + 2, chat=chat, sender=sender), T0 + 6)
    groups = agg.expire(T0 + 10_000)
    assert sorted((g.chat_id, g.sender_id, len(g.messages)) for g in groups) == [
        ("c1", "a", 2),
        ("c1", "b", 2),
        ("c2", "a", 2),
    ]


def test_sender_quiet_for_a_whole_window_is_eager_again() -> None:
    agg = Aggregator(AggregationConfig(window_ms=1000))
    agg.add(msg(T0, 0), T0)
    assert agg.expire(T0 + 5000) == []
    (group,) = agg.add(msg(T0 + 5000, 1), T0 + 5000)
    assert group.completed_by is CompletedBy.EAGER


def test_late_message_for_a_completed_window_opens_a_new_group_for_that_window() -> None:
    agg = Aggregator(AggregationConfig(window_ms=1000))
    agg.add(msg(T0, 0), T0)
    agg.add(msg(T0 + 500, 1), T0 + 500)
    agg.add(msg(T0 + 700, 2), T0 + 700)
    (first,) = agg.expire(T0 + 1200)
    late = agg.add(msg(T0 + 800, 3), T0 + 1300)  # arrived after its window closed
    assert late == []
    (second,) = agg.expire(T0 + 1300)
    assert second.window_start_ms == first.window_start_ms == T0
    assert [m.offset for m in second.messages] == [3]


@pytest.mark.parametrize("reason", [CompletedBy.STOP, CompletedBy.REVOKE])
def test_force_completion(reason: CompletedBy) -> None:
    agg = Aggregator(AggregationConfig(window_ms=1000))
    agg.add(msg(T0, 0), T0)
    agg.add(msg(T0 + 1, 1), T0 + 1)
    agg.add(msg(T0 + 2, 2, sender="bob"), T0 + 2)  # eager for bob
    agg.add(msg(T0 + 3, 3, sender="bob"), T0 + 3)
    groups = agg.complete_all(reason)
    assert {g.completed_by for g in groups} == {reason}
    assert sorted(m.offset for g in groups for m in g.messages) == [1, 3]
    assert agg.open_groups == 0
    assert agg.oldest_offset() is None


def test_config_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        AggregationConfig(window_ms=0)
    with pytest.raises(ValueError):
        AggregationConfig(max_bytes=10)


def test_a_message_dated_too_far_ahead_is_refused_and_changes_nothing() -> None:
    agg = Aggregator(AggregationConfig(window_ms=1000, max_future_ms=60_000))
    agg.add(msg(T0, 0), T0)  # eager
    agg.add(msg(T0 + 10, 1), T0 + 10)
    with pytest.raises(FutureDated, match="ahead of the clock"):
        agg.add(msg(T0 + 10 + 60_001, 2), T0 + 10)
    assert (agg.open_groups, agg.open_messages, agg.oldest_offset()) == (1, 1, 1)
    assert agg.next_deadline_ms() == T0 + 1200
    # Exactly at the bound is still accepted (a clock a little behind the producer's).
    assert agg.add(msg(T0 + 60_010, 3), T0 + 10)[0].completed_by is CompletedBy.WINDOW
