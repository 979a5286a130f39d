"""The offset ledger: never commits past an open, unwritten or unhandled message."""

from chat_common.consume.ledger import OffsetLedger

P0, P1 = "p0", "p1"


def ledger(*partitions: str) -> OffsetLedger[str, str]:
    out: OffsetLedger[str, str] = OffsetLedger()
    for p in partitions:
        out.assign(p)
    return out


def handle(led: OffsetLedger[str, str], partition: str, *offsets: int) -> None:
    for offset in offsets:
        led.handled(partition, offset)


def test_nothing_to_commit_before_any_record() -> None:
    assert ledger(P0).positions({}) == {}


def test_commits_up_to_the_next_record_when_nothing_is_held() -> None:
    led = ledger(P0)
    handle(led, P0, 0, 1, 2)
    assert led.positions({}) == {P0: 3}
    assert led.next_offset(P0) == 3


def test_never_past_an_open_group() -> None:
    led = ledger(P0)
    handle(led, P0, 0, 1, 2, 3)
    assert led.positions({P0: 1}) == {P0: 1}
    assert led.positions({P0: None}) == {P0: 4}


def test_never_past_an_unwritten_group_until_it_is_written() -> None:
    led = ledger(P0)
    handle(led, P0, 0, 1, 2, 3, 4)
    early = led.hold(P0, 1, "group a")
    late = led.hold(P0, 3, "group b")
    assert early is not None and late is not None
    assert led.positions({}) == {P0: 1}
    led.written([late])  # a later group written first changes nothing
    assert led.positions({}) == {P0: 1}
    led.written([early])
    assert led.positions({}) == {P0: 5}
    assert led.unwritten() == []


def test_a_commit_position_never_goes_backwards_or_repeats() -> None:
    led = ledger(P0)
    handle(led, P0, 0, 1, 2)
    led.committed(led.positions({}))
    assert led.positions({}) == {}
    # A message re-opened at an older offset (say a redelivery) must not pull it back.
    assert led.positions({P0: 1}) == {}
    handle(led, P0, 3)
    assert led.positions({}) == {P0: 4}


def test_partitions_are_independent_and_positions_can_be_restricted() -> None:
    led = ledger(P0, P1)
    handle(led, P0, 0, 1)
    handle(led, P1, 10, 11, 12)
    led.hold(P1, 11, "group")
    assert led.positions({}) == {P0: 2, P1: 11}
    assert led.positions({}, only=[P1]) == {P1: 11}


def test_dead_letter_failure_at_the_head_of_a_partition_commits_nothing() -> None:
    led = ledger(P0)
    led.blocked(P0, 0)  # the very first record could not be parked
    assert led.positions({}) == {}
    handle(led, P0, 1, 2)  # records behind it (already fetched) do not count
    assert led.positions({}) == {}
    assert led.next_offset(P0) is None
    handle(led, P0, 0)  # fetched again and parked this time
    assert led.positions({}) == {P0: 1}
    handle(led, P0, 1, 2)
    assert led.positions({}) == {P0: 3}


def test_dead_letter_failure_mid_partition_holds_the_position_at_that_record() -> None:
    led = ledger(P0)
    handle(led, P0, 0, 1, 2)
    led.blocked(P0, 3)
    handle(led, P0, 4, 5)
    assert led.positions({}) == {P0: 3}
    handle(led, P0, 3, 4)
    assert led.positions({}) == {P0: 5}


def test_revoke_in_the_middle_of_a_flush() -> None:
    led = ledger(P0, P1)
    handle(led, P0, 0, 1, 2)
    handle(led, P1, 0, 1)
    led.hold(P0, 1, "p0 group")
    led.hold(P1, 0, "p1 group")
    in_flight = led.unwritten()  # the flush takes these to Firestore...
    assert [g for _, g in in_flight] == ["p0 group", "p1 group"]
    # ...and while it writes, P0 is revoked (its groups go to the next owner) and comes back.
    assert led.revoke(P0) == ["p0 group"]
    assert led.positions({}) == {P1: 0}
    led.assign(P0)
    handle(led, P0, 7)
    led.hold(P0, 7, "new p0 group")
    led.written(h for h, _ in in_flight)  # the old flush finishes
    # The old hold did not release the new assignment's group, nor resurrect anything.
    assert [g for _, g in led.unwritten()] == ["new p0 group"]
    assert led.positions({}) == {P0: 7, P1: 2}


def test_nothing_is_held_or_handled_for_a_partition_not_assigned() -> None:
    led = ledger(P0)
    assert led.hold(P1, 0, "stray") is None
    handle(led, P1, 0)
    led.blocked(P1, 0)
    assert led.positions({P1: 0}) == {}
    assert led.revoke(P1) == []


def test_held_count_measures_the_backlog() -> None:
    led = ledger(P0)
    led.hold(P0, 0, "abc")
    led.hold(P0, 1, "de")
    assert led.held_count(len) == 5
