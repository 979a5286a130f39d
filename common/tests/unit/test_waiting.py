"""The bounded wait retries until success and names what never came."""

import pytest

from chat_common.waiting import wait_until, wait_until_ready


async def test_returns_once_the_check_succeeds() -> None:
    calls = 0

    async def flaky() -> None:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConnectionError("not yet")

    await wait_until_ready(flaky, "store", timeout=5, interval=0.01)
    assert calls == 3


async def test_times_out_naming_the_dependency() -> None:
    async def down() -> None:
        raise ConnectionError("refused")

    with pytest.raises(TimeoutError, match="cassandra not ready"):
        await wait_until_ready(down, "cassandra", timeout=0.05, interval=0.01)


async def test_wait_until_returns_once_the_check_holds() -> None:
    answers = iter([False, False, True])

    async def arrived() -> bool:
        return next(answers)

    await wait_until(arrived, "arrival", timeout=5, interval=0.01)
    assert next(answers, None) is None  # asked exactly three times


async def test_wait_until_times_out_naming_what_never_happened() -> None:
    async def never() -> bool:
        return False

    with pytest.raises(TimeoutError, match="the batch did not happen within 0 s"):
        await wait_until(never, "the batch", timeout=0.05, interval=0.01)


async def test_wait_until_lets_an_error_of_the_check_through() -> None:
    async def broken() -> bool:
        raise ConnectionError("refused")

    with pytest.raises(ConnectionError):
        await wait_until(broken, "anything", timeout=5, interval=0.01)
