"""The consume loop's metrics, the same for every consumer group (label `group`)."""

from prometheus_client import Counter, Gauge

CONSUMER_LAG = Gauge(
    "chat_consumer_lag_records",
    "High watermark minus the next offset to handle, per assigned partition.",
    ["group", "topic", "partition"],
)
DEAD_LETTERS = Counter(
    "chat_dead_letters_total",
    "Records parked on their topic's dead-letter topic (by source topic).",
    ["group", "topic"],
)
DEAD_LETTER_FAILURES = Counter(
    "chat_dead_letter_failures_total",
    "Dead-letter produces that failed (the record is fetched again, never passed).",
    ["group", "topic"],
)
RECORDS_HANDLED = Counter(
    "chat_consumer_records_total", "Records applied or passed over.", ["group"]
)
RETRIES = Counter(
    "chat_consumer_retries_total",
    "Steps that failed on a store and were retried with backoff (apply or flush).",
    ["group", "step"],
)
COMMITS = Counter("chat_consumer_commits_total", "Offset commits accepted.", ["group"])
PAUSED = Gauge("chat_consumer_paused", "1 while fetching is paused for backpressure.", ["group"])
BACKLOG = Gauge("chat_consumer_backlog", "What the projection holds unwritten.", ["group"])


def initialise(group: str) -> None:
    """Make the group's unlabelled-by-partition series exist before their first event."""
    RECORDS_HANDLED.labels(group)
    for step in ("apply", "flush"):
        RETRIES.labels(group, step)
    COMMITS.labels(group)
    PAUSED.labels(group).set(0)
    BACKLOG.labels(group).set(0)
