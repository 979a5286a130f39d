"""The pure parts of the rate limits: windows, Retry-After, keys, the client address."""

from datetime import UTC, datetime, timedelta

import pytest

from auth_service.exceptions import TooManyAttempts
from auth_service.throttle import Window, client_address, failed_login_keys, registration_key


def test_a_window_holds_the_moment_and_retry_after_counts_to_its_end() -> None:
    now = datetime(2026, 11, 29, 14, 7, 30, 500_000, tzinfo=UTC)
    window = Window.of(now, 900)
    assert window.start == datetime(2026, 11, 29, 14, 0, tzinfo=UTC)
    assert window.end == datetime(2026, 11, 29, 14, 15, tzinfo=UTC)
    assert window.retry_after(now) == 450  # 449.5 s, rounded up
    assert window.retry_after(window.end - timedelta(milliseconds=1)) == 1
    assert window.retry_after(window.end) == 1  # never 0: "retry now" would be a lie


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


@pytest.mark.parametrize(
    ("peer", "forwarded", "trust", "expected"),
    [
        ("10.0.0.9", "1.2.3.4", False, "10.0.0.9"),  # not trusted: the header is ignored
        ("10.0.0.9", None, True, "10.0.0.9"),
        ("10.0.0.9", "1.2.3.4", True, "1.2.3.4"),
        # Only the last entry is our proxy's; earlier ones are the client's to invent.
        ("10.0.0.9", "6.6.6.6, 1.2.3.4", True, "1.2.3.4"),
        ("10.0.0.9", "1.2.3.4, not-an-address", True, "10.0.0.9"),
        ("10.0.0.9", "2001:db8::1", True, "2001:db8::1"),
        (None, None, False, "unknown"),
    ],
)
def test_client_address(
    peer: str | None, forwarded: str | None, trust: bool, expected: str
) -> None:
    assert client_address(peer, forwarded, trust) == expected


def test_too_many_attempts_is_a_429_with_retry_after() -> None:
    error = TooManyAttempts(42)
    assert error.status_code == 429
    assert error.response_headers() == {"Retry-After": "42"}
