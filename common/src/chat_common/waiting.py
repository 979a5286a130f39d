"""Bounded waits: for a dependency before a service starts, and for an outcome."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)


async def wait_until_ready(
    check: Callable[[], Awaitable[object]],
    what: str,
    timeout: float = 60.0,
    interval: float = 1.0,
) -> None:
    """Call `check` until it succeeds; raise TimeoutError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            await check()
            return
        except Exception as exc:  # any failure means "not yet": we retry until the deadline
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{what} not ready after {timeout:.0f}s: {exc!r}") from exc
            logger.info("waiting for %s: %r", what, exc)
        await asyncio.sleep(interval)


async def wait_until(
    check: Callable[[], Awaitable[bool]], what: str, timeout: float, interval: float = 0.2
) -> None:
    """Poll `check` until it returns true; raise TimeoutError naming `what` after `timeout` s.

    For waits on an outcome (a message arrived, a process is gone), where a false answer
    is normal and an exception is a real failure that should propagate.
    """
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what} did not happen within {timeout:.0f} s")
        await asyncio.sleep(interval)
