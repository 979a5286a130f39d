"""The bounded wait retries until success and names what never came."""

import pytest

from chat_common.waiting import wait_until_ready


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
