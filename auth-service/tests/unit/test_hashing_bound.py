"""Argon2 runs on a bounded pool: at most `max_concurrency` hashes at once, and a request
that cannot get a slot within the wait is refused with HashingBusy (503), not queued."""

import asyncio

import pytest
from support import HeldHashing

from auth_service.exceptions import HashingBusy
from auth_service.security import Passwords


async def test_at_most_max_concurrency_hashes_run_and_the_rest_get_busy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    passwords = Passwords(1, 1024, 1, max_concurrency=2, queue_timeout=0.2)
    held = HeldHashing(monkeypatch)  # after construction: its dummy hash is real
    try:
        first = [asyncio.create_task(passwords.hash(f"p{i}")) for i in range(2)]
        for _ in range(2):  # both slots are taken: their threads have started
            assert await asyncio.to_thread(held.started.acquire, True, 10)
        with pytest.raises(HashingBusy):
            await passwords.hash("third")  # refused after the bounded wait
        held.release.set()
        assert await asyncio.gather(*first) == ["hash-of-p0", "hash-of-p1"]
        assert held.most == 2
        assert await passwords.hash("again") == "hash-of-again"  # slots come back
    finally:
        held.release.set()
        passwords.close()


def test_busy_is_a_503_with_retry_after() -> None:
    error = HashingBusy()
    assert error.status_code == 503
    assert error.response_headers()["Retry-After"]
