"""Backoff doubles up to its cap and starts over after a success; wait_or_stop ends early."""

import asyncio

import pytest

from chat_common.backoff import Backoff, wait_or_stop


def test_delays_double_up_to_the_cap_and_restart_after_a_success() -> None:
    backoff = Backoff(0.5, 3.0)
    assert [backoff.failed() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    backoff.succeeded()
    assert backoff.failed() == 0.5


@pytest.mark.parametrize(("first", "cap"), [(0.0, 1.0), (-1.0, 1.0), (2.0, 1.0)])
def test_a_first_delay_outside_0_to_cap_is_refused(first: float, cap: float) -> None:
    with pytest.raises(ValueError, match="first <= cap"):
        Backoff(first, cap)


async def test_wait_or_stop_returns_when_stopped_not_after_the_delay() -> None:
    stopping = asyncio.Event()
    waiting = asyncio.create_task(wait_or_stop(stopping, 3600))
    await asyncio.sleep(0)  # let it start waiting
    assert not waiting.done()
    stopping.set()
    # Bounded: if the stop were ignored this would time out rather than hang.
    await asyncio.wait_for(waiting, 10)


async def test_wait_or_stop_returns_after_the_delay_when_not_stopped() -> None:
    await asyncio.wait_for(wait_or_stop(asyncio.Event(), 0.01), 10)
