"""Per-user send rate: a token bucket per sender (GCRA), pure and clock-injected.

The buckets live in the process, so the limit is per replica: with N chat-service pods
behind a load balancer a user can reach at most N times the rate. That bounds abuse
well enough for sends (each is also a Cassandra write the pod itself pays for); a
cluster-wide limit would need a shared store on every send.
"""

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from functools import cached_property


@dataclass(eq=False)
class SendRateLimiter:
    """`rate` sends a second per key, after a burst of up to `burst` at once.

    Each key keeps one number, its theoretical arrival time (GCRA, equivalent to a token
    bucket): a send is allowed when it would not push that time more than `burst`
    intervals ahead of now. Keys idle long enough to be full again are forgotten, and at
    most `max_keys` are kept (the least recently used go first).
    """

    rate: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    max_keys: int = 100_000
    _arrivals: OrderedDict[Hashable, float] = field(init=False, default_factory=OrderedDict)

    @cached_property
    def interval(self) -> float:
        return 1.0 / self.rate

    @cached_property
    def tolerance(self) -> float:
        # A hair over `burst` intervals, so float rounding never refuses the burst's last.
        return self.burst * self.interval + 1e-9

    def take(self, key: Hashable) -> float:
        """0.0 when `key` may send now (and it counts), else the seconds until it may."""
        now = self.clock()
        arrival = max(self._arrivals.get(key, now), now) + self.interval
        if arrival - now > self.tolerance:
            return arrival - now - self.tolerance
        self._arrivals[key] = arrival
        self._arrivals.move_to_end(key)
        self._forget_idle(now)
        return 0.0

    def _forget_idle(self, now: float) -> None:
        while self._arrivals:
            key, arrival = next(iter(self._arrivals.items()))
            if arrival > now and len(self._arrivals) <= self.max_keys:
                return
            del self._arrivals[key]

    def __len__(self) -> int:
        return len(self._arrivals)


def retry_after_header(wait_seconds: float) -> str:
    """Retry-After is whole seconds; round up so a client that obeys it is let in."""
    return str(max(1, math.ceil(wait_seconds)))
