"""Prometheus metrics of the aggregator: one counter per side effect, and the delay (lag,
backlog, dead letters and commits are the consume loop's: `chat_common.consume.metrics`)."""

from prometheus_client import Counter, Gauge, Histogram

MESSAGES_IN = Counter("aggregator_messages_in_total", "Valid chat message events consumed.")
GROUPS_OUT = Counter(
    "aggregator_groups_completed_total", "Completed groups by completion reason.", ["reason"]
)
FIRESTORE_WRITES = Counter(
    "aggregator_firestore_writes_total", "Batch documents created in Firestore."
)
FIRESTORE_READS = Counter(
    "aggregator_firestore_reads_total", "Batch documents read to resolve an id already taken."
)
FIRESTORE_ERRORS = Counter(
    "aggregator_firestore_errors_total", "Failed Firestore flushes (retried with backoff)."
)
MESSAGES_WRITTEN = Counter(
    "aggregator_messages_written_total", "Messages newly written into batch documents."
)
WRITES_PER_MESSAGE = Gauge(
    "aggregator_writes_per_message",
    "Firestore documents created per message written since start (the naive design is 1.0).",
)
END_TO_END_DELAY = Histogram(
    "aggregator_end_to_end_delay_seconds",
    "Message time (from its time UUID) to its batch document written.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0),
)
