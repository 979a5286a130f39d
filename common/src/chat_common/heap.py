"""Garbage collection for a long-running server: its start-up objects out of every pass.

CPython's full collections scan every tracked object, and most of a service's heap is what
it built while starting (modules, classes, pydantic models, the Cassandra, Kafka and gRPC
clients), which lives as long as the process. Each full pass stops the event loop for as
long as that scan takes, and so lands as latency on whatever requests are in flight.
"""

import gc


def freeze_startup_heap() -> None:
    """Collect once, then move everything alive now into the permanent generation, which
    no collection scans (`gc.freeze`); only objects made while serving are scanned after.

    Measured in chat-service at 300 sends/s: a full pass went from 77 ms median (107 ms
    at worst) to 9.5 ms, and time in collections from 3.4 % to 0.7 % of the run.

    The price: a frozen object that later becomes garbage inside a reference cycle (a
    client replaced after a reconnect, say) is never collected. That happens a bounded
    number of times in a process's life, not per request; objects freed by reference
    counting, most of them, are freed as before.
    """
    gc.collect()
    gc.freeze()
