"""Retry pacing for the background workers (relays, consumers) that outlive an outage."""

import asyncio
import contextlib


class Backoff:
    """A capped exponential delay: it doubles after each failure up to `cap` and starts
    again from `first` after a success, so a long outage is polled gently and a short
    one is noticed fast."""

    def __init__(self, first: float, cap: float) -> None:
        if not 0 < first <= cap:
            raise ValueError(f"need 0 < first <= cap, got first={first}, cap={cap}")
        self._first = first
        self._cap = cap
        self._next = first

    def failed(self) -> float:
        """The delay to wait after this failure; the next one is twice as long (capped)."""
        delay = self._next
        self._next = min(delay * 2, self._cap)
        return delay

    def succeeded(self) -> None:
        self._next = self._first


async def wait_or_stop(event: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less if `event` is set meanwhile (a stop or a wake-up is not
    held up by a pause)."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)
