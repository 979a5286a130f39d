"""Settings of the chat service, read from the environment (the only module that does)."""

from functools import lru_cache

from pydantic import Field

from auth_validator import ValidatorSettings
from chat_common.config import ServiceSettings
from chat_common.store_access import CassandraAccessSettings, KafkaAccessSettings


class Settings(ServiceSettings, ValidatorSettings, CassandraAccessSettings, KafkaAccessSettings):
    """Every variable the chat service reads; names are the environment variable names.

    Store credentials, TLS and the Cassandra consistency level come from the mixins.
    """

    # Comma-separated contact points, e.g. "10.0.0.1,10.0.0.2".
    CASSANDRA_HOSTS: str = "127.0.0.1"
    CASSANDRA_PORT: int = 9042
    CASSANDRA_KEYSPACE: str = Field(default="chat", pattern=r"^[a-z][a-z0-9_]{0,47}$")
    CASSANDRA_REPLICATION_FACTOR: int = Field(default=1, ge=1)
    # Every driver request gives up after this long, so a dead or frozen Cassandra
    # becomes a 503 well inside the 2 s the contract allows, never a hang.
    CASSANDRA_REQUEST_TIMEOUT_SECONDS: float = Field(default=1.5, gt=0)
    CASSANDRA_CONNECT_TIMEOUT_SECONDS: float = Field(default=1.5, gt=0)
    # The Cassandra driver reads every answer on its own reactor thread, which must take
    # the GIL from the busy event loop; a waiting thread only asks for it after CPython's
    # switch interval (5 ms by default), so each answer could wait that long. At 300
    # sends/s, 0.5 ms cut the seconds in which over 20 sends took more than 100 ms from
    # 12–33 of 71 to 0–11 (six runs each; 1 ms and 0.2 ms did no better). Applied while
    # the app runs.
    GIL_SWITCH_INTERVAL_SECONDS: float = Field(default=0.0005, gt=0, le=0.1)
    # One partition of `message` holds one chat's messages of one bucket. An hour keeps
    # even an abusive chat well under 100 MB per partition: one 4,000-character message
    # (at most 16 KB of UTF-8) every second for an hour is ~58 MB, and a lively chat of
    # ordinary 300-byte messages at 10/s is ~11 MB. Smaller buckets only add rows to the
    # tiny per-chat bucket index (one per active hour), never empty-bucket scans.
    MESSAGE_BUCKET_SECONDS: int = Field(default=3600, ge=1)
    KAFKA_BOOTSTRAP_SERVERS: str = "127.0.0.1:9092"
    KAFKA_TOPIC: str = "chat-messages"
    # Where chat-worker's consumers park a record they cannot handle (DLQ_AFTER_FAILURES
    # times in a row, never for a store that is down): each topic has its dead-letter topic.
    KAFKA_DLQ_TOPIC: str = "chat-messages-dlq"
    # Account deletions: every chat-api replica tails USER_EVENTS_TOPIC (no group) to refuse
    # the deleted users' tokens at once; chat-worker's group USER_EVENTS_GROUP_ID erases
    # their messages.
    USER_EVENTS_TOPIC: str = "user-events"
    USER_EVENTS_GROUP_ID: str = "chat-service-erase"
    USER_EVENTS_DLQ_TOPIC: str = "user-events-dlq"
    # A deleted message's text is scrubbed from Firestore's batches, and a deleted account
    # erased, at once and again this long after (chat-worker): late sends and late batches.
    ERASURE_GRACE_SECONDS: float = Field(default=30.0, gt=0)
    DLQ_AFTER_FAILURES: int = Field(default=3, ge=1)
    KAFKA_REQUEST_TIMEOUT_MS: int = Field(default=10_000, ge=1000)
    # How often chat-worker's sweeper re-reads the outbox for messages that the fast path
    # could not announce (Kafka down, a process restarted).
    OUTBOX_SCAN_INTERVAL_SECONDS: float = Field(default=2.0, gt=0)
    # chat-worker's inbox projection (unread counts, the Firestore inbox and receipts): a
    # consumer group of KAFKA_TOPIC of its own, one ordered writer per chat. Each document is
    # rewritten at most once per INBOX_WRITE_INTERVAL_SECONDS (an inbox entry: how late a
    # new message may show) or INBOX_RECEIPT_INTERVAL_SECONDS (a receipt). Receipts wait
    # longer so that a chatty pair (4 documents, 10 msg/s) stays within 0.5 writes/message.
    INBOX_GROUP_ID: str = "chat-inbox"
    INBOX_WRITE_INTERVAL_SECONDS: float = Field(default=1.0, gt=0)
    INBOX_RECEIPT_INTERVAL_SECONDS: float = Field(default=4.0, gt=0)
    # chat-worker's /healthz, /readyz and /metrics (it serves no API).
    WORKER_HOST: str = "127.0.0.1"
    WORKER_PORT: int = Field(default=8004, ge=1, le=65_535)
    AUTH_SERVICE_URL: str = "http://127.0.0.1:8001"
    AUTH_SERVICE_TIMEOUT_SECONDS: float = Field(default=2.0, gt=0)
    # The realtime relay (GET /chat/{id}/events) listens to Firestore for browsers.
    # FIRESTORE_EMULATOR_HOST set: that emulator; empty: production Firestore.
    FIRESTORE_PROJECT: str = "demo-chat"
    FIRESTORE_EMULATOR_HOST: str = "127.0.0.1:8080"
    # The auth service's URL as the browser reaches it (the web page at /app logs in there).
    PUBLIC_AUTH_URL: str = "http://127.0.0.1:8001"
    # Per-user rate of sends (and edits and deletes): a token bucket per user, kept in each
    # replica, so with N pods a user can reach N times it. 429 with Retry-After beyond.
    SEND_RATE_PER_SECOND: float = Field(default=10.0, gt=0)
    SEND_RATE_BURST: int = Field(default=20, ge=1)
    # The same for POST /chats (N9): each chat started is announced and writes both
    # members' inbox documents, so a user may start about one a second, bursts of 20.
    CHAT_START_RATE_PER_SECOND: float = Field(default=1.0, gt=0)
    CHAT_START_BURST: int = Field(default=20, ge=1)
    # Blocks and reports (DESIGN.md "Safety"). A replica trusts what it read of a block for
    # at most BLOCK_CACHE_SECONDS, so a block made on any replica holds on all within it.
    # Reports go to MODERATION_TOPIC, at most REPORT_RATE_PER_SECOND per user (a bucket
    # of REPORT_RATE_BURST per replica, as sends).
    BLOCK_CACHE_SECONDS: float = Field(default=1.0, ge=0, le=5)
    MODERATION_TOPIC: str = "moderation"
    REPORT_RATE_PER_SECOND: float = Field(default=0.2, gt=0)
    REPORT_RATE_BURST: int = Field(default=5, ge=1)
    # Each SSE stream holds a Firestore listener (a thread and a gRPC stream): caps per
    # user and per pod (429 beyond), and how many listener callbacks a stream may queue
    # for a slow client before it is ended (the client resumes from its Last-Event-ID).
    SSE_MAX_STREAMS_PER_USER: int = Field(default=5, ge=1)
    SSE_MAX_STREAMS: int = Field(default=200, ge=1)
    SSE_QUEUE_SIZE: int = Field(default=64, ge=2)
    # A resumed stream starts this far before its cursor: the aggregator's window plus how
    # late a batch document may be written after its last message (flush, retries).
    SSE_RESUME_LOOKBACK_SECONDS: float = Field(default=30.0, ge=0)
    # ...and never further back than this (N8): an old `since` would reread every live
    # batch at each reconnect; clients read what is older from history. One access token's
    # lifetime by default: a stream never outlives its token, so a reconnect is within it.
    SSE_RESUME_MAX_SECONDS: float = Field(default=900.0, gt=0)

    @property
    def cassandra_contact_points(self) -> list[str]:
        """CASSANDRA_HOSTS as a list of host names."""
        return [host.strip() for host in self.CASSANDRA_HOSTS.split(",") if host.strip()]


@lru_cache
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return Settings()
