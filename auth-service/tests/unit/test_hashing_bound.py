"""Argon2 runs on a bounded pool: at most `max_concurrency` hashes at once, and a request
that cannot get a slot within the wait is refused with HashingBusy (503), not queued."""

import asyncio
import threading

import pytest
from pwdlib import PasswordHash

from auth_service.exceptions import HashingBusy
from auth_service.security import Passwords


class HeldHashing:
    """Makes every hash block until released, counting the threads hashing at once."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.release = threading.Event()
        self.running = 0
        self.most = 0
        self._lock = threading.Lock()
        self.started = threading.Semaphore(0)

        def held(_self: PasswordHash, password: str) -> str:
            with self._lock:
                self.running += 1
                self.most = max(self.most, self.running)
            self.started.release()
            self.release.wait(10)
            with self._lock:
                self.running -= 1
            return f"hash-of-{password}"

        monkeypatch.setattr(PasswordHash, "hash", held)


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
