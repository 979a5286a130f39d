"""The pure parts of the rate limits: windows, Retry-After, keys, the backoff."""

from datetime import UTC, datetime, timedelta

from auth_service.exceptions import TooManyAttempts
from auth_service.throttle import (
    Counts,
    Window,
    backoff_seconds,
    failed_login_keys,
    registration_key,
)


def test_a_window_holds_the_moment_and_retry_after_counts_to_its_end() -> None:
    now = datetime(2026, 11, 29, 14, 7, 30, 500_000, tzinfo=UTC)
    window = Window.of(now, 900)
    assert window.start == datetime(2026, 11, 29, 14, 0, tzinfo=UTC)
    assert window.end == datetime(2026, 11, 29, 14, 15, tzinfo=UTC)
    assert window.previous_start == datetime(2026, 11, 29, 13, 45, tzinfo=UTC)
    # At the limit within this window alone, nothing before: free again at its end.
    assert window.retry_after(now, 5, 5, 0) == 450  # 449.5 s, rounded up
    assert window.retry_after(window.end - timedelta(milliseconds=1), 5, 5, 0) == 1
    assert window.retry_after(window.end, 5, 5, 0) == 1  # never 0: "retry now" would be a lie


def test_the_estimate_weighs_the_previous_window_by_what_is_still_covered() -> None:
    window = Window.of(datetime(2026, 11, 29, 14, 0, tzinfo=UTC), 900)
    assert window.estimate(window.start, 2, 10) == 12
    assert window.estimate(window.start + timedelta(seconds=300), 2, 9) == 8  # 2 + 9 * 2/3
    assert window.estimate(window.end, 2, 10) == 2


def test_a_burst_across_a_boundary_gets_the_limit_not_twice() -> None:
    # 5 failures (the limit) just before 14:15. A fixed window would allow 5 more just
    # after it; the estimate (previous attempts taken as evenly spread) allows one.
    after = datetime(2026, 11, 29, 14, 15, 1, tzinfo=UTC)
    window = Window.of(after, 900)
    assert Counts(window, {("k", window.previous_start): 5}).over("k", 5, after) is None
    one_more = Counts(window, {("k", window.previous_start): 5, ("k", window.start): 1})
    assert one_more.over("k", 5, after) is not None
    # Right at the boundary the previous window still counts whole.
    assert Counts(window, {("k", window.previous_start): 5}).over("k", 5, window.start) == 1


def test_retry_after_is_when_the_estimate_drops_below_the_limit() -> None:
    window = Window.of(datetime(2026, 11, 29, 14, 0, tzinfo=UTC), 900)
    now = window.start + timedelta(seconds=60)
    # 1 now and 8 before: 1 + 8 * (1 - f) < 5 once f > 1/2, at 450 s into the window.
    wait = window.retry_after(now, 5, 1, 8)
    assert wait == 391
    assert window.estimate(now + timedelta(seconds=wait), 1, 8) < 5
    assert window.estimate(now + timedelta(seconds=wait - 2), 1, 8) >= 5
    # 10 in this window: into the next one until 10 * (1 - f) < 5, f > 1/2.
    wait = window.retry_after(now, 5, 10, 0)
    assert wait == 840 + 450 + 1
    later = now + timedelta(seconds=wait)
    assert Window.of(later, 900).estimate(later, 0, 10) < 5


def test_every_replica_computes_the_same_window() -> None:
    a = datetime(2026, 11, 29, 14, 0, 1, tzinfo=UTC)
    b = datetime(2026, 11, 29, 14, 14, 59, tzinfo=UTC)
    assert Window.of(a, 900) == Window.of(b, 900)
    assert Window.of(b + timedelta(seconds=1), 900).start == Window.of(a, 900).end


def test_keys_are_case_insensitive_in_the_username() -> None:
    assert failed_login_keys("Alice", "10.0.0.1") == failed_login_keys("alice", "10.0.0.1")
    per_user, per_address = failed_login_keys("alice", "10.0.0.1")
    assert per_user != per_address and per_address != registration_key("10.0.0.1")
    assert failed_login_keys("alice", "10.0.0.2")[0] != per_user


def test_too_many_attempts_is_a_429_with_retry_after() -> None:
    error = TooManyAttempts(42)
    assert error.status_code == 429
    assert error.response_headers() == {"Retry-After": "42"}


def test_the_backoff_is_free_then_doubles_up_to_its_maximum() -> None:
    waits = [backoff_seconds(failures, 3, 2.0, 30.0) for failures in range(1, 9)]
    assert waits == [0.0, 0.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    # However many failures pile up, the wait stays a finite maximum.
    assert backoff_seconds(10_000, 3, 2.0, 30.0) == 30.0
