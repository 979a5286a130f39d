"""The per-user send rate, with a fake clock."""

import pytest

from chat_service.api.send_rate import SendRateLimiter, retry_after_header


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_a_burst_passes_then_the_next_waits_one_interval(clock: FakeClock) -> None:
    limiter = SendRateLimiter(rate=10, burst=20, clock=clock)
    assert [limiter.take("u") for _ in range(20)] == [0.0] * 20
    assert limiter.take("u") == pytest.approx(0.1)
    # Refused sends do not count: the wait does not grow while the sender hammers.
    assert limiter.take("u") == pytest.approx(0.1)


def test_the_sustained_rate_is_the_configured_one(clock: FakeClock) -> None:
    limiter = SendRateLimiter(rate=10, burst=20, clock=clock)
    allowed = 0
    for _ in range(1000):  # 10 s of attempts every 10 ms
        allowed += limiter.take("u") == 0.0
        clock.now += 0.01
    # The burst, plus one send per 0.1 s for the 10 s (the last may fall on either side).
    assert 20 + 99 <= allowed <= 20 + 100


def test_users_are_limited_separately(clock: FakeClock) -> None:
    limiter = SendRateLimiter(rate=1, burst=2, clock=clock)
    assert [limiter.take("a") for _ in range(2)] == [0.0, 0.0]
    assert limiter.take("a") > 0
    assert limiter.take("b") == 0.0


def test_a_quiet_sender_gets_the_whole_burst_back(clock: FakeClock) -> None:
    limiter = SendRateLimiter(rate=10, burst=20, clock=clock)
    for _ in range(20):
        limiter.take("u")
    clock.now += 2.0
    assert [limiter.take("u") for _ in range(20)] == [0.0] * 20


def test_memory_is_bounded(clock: FakeClock) -> None:
    limiter = SendRateLimiter(rate=1, burst=5, clock=clock, max_keys=100)
    for user in range(1000):
        limiter.take(user)
    assert len(limiter) == 100
    clock.now += 10  # everyone is full again: nothing worth keeping
    limiter.take("late")
    assert len(limiter) == 1


@pytest.mark.parametrize(("wait", "header"), [(0.01, "1"), (1.0, "1"), (1.2, "2")])
def test_retry_after_rounds_up_to_whole_seconds(wait: float, header: str) -> None:
    assert retry_after_header(wait) == header
