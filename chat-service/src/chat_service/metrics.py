"""One Prometheus counter per side effect of the chat service."""

from prometheus_client import Counter, Gauge

CHATS_CREATED = Counter("chat_chats_created_total", "Chats created (first POST /chats of a pair).")
MESSAGES_STORED = Counter("chat_messages_stored_total", "Messages stored in Cassandra.")
DUPLICATE_SENDS = Counter(
    "chat_duplicate_sends_total", "Sends answered with the message of an earlier client_message_id."
)
EVENTS_PRODUCED = Counter("chat_events_produced_total", "Message events acknowledged by Kafka.")
OUTBOX_ENTRIES_SWEPT = Counter(
    "chat_outbox_entries_swept_total",
    "Outbox entries the sweep announced because no fast path had (Kafka down, a restart).",
)
INBOX_EVENTS_APPLIED = Counter(
    "chat_inbox_events_applied_total",
    "Events the inbox consumer applied to its counts (its progress through chat-messages).",
)
OUTBOX_UNANNOUNCED_AGE = Gauge(
    "chat_outbox_unannounced_age_seconds",
    "Age of the oldest outbox entry the sweeper found not yet announced on Kafka (0: none).",
)
INBOX_DOCUMENTS_WRITTEN = Counter(
    "chat_inbox_documents_written_total",
    "Inbox and receipt documents chat-worker wrote to Firestore, by kind.",
    ["kind"],
)
for _kind in ("inbox", "receipt"):
    INBOX_DOCUMENTS_WRITTEN.labels(_kind)  # the series exist before the first write
