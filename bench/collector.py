"""The load generator's own garbage collector, kept out of the latencies it measures.

A full collection in the bench process stops its event loop while it scans every object
the run holds, and each answer that arrives meanwhile is timed as that much slower. In a
10-minute soak the scan grows with the 180,000 results kept (measured: full passes of 266 ms
median, 894 ms at worst, three minutes in), which showed as a p99 rising minute by minute
that chat-service's own request histogram did not have.
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Gen-1 passes between full ones: more than any run makes, so none happens while measuring.
_NO_FULL_PASS = 10**9


@contextmanager
def no_full_collections() -> Iterator[None]:
    """While measuring: young collections as usual (they free the short-lived cycles of
    each request), no full one; the collector's thresholds are restored afterwards."""
    young, middle, full = gc.get_threshold()
    gc.set_threshold(young, middle, _NO_FULL_PASS)
    try:
        yield
    finally:
        gc.set_threshold(young, middle, full)
