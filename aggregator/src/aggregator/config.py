"""The aggregator's settings: the environment variables it reads, with local defaults."""

from functools import lru_cache

from pydantic import Field

from chat_common.config import ServiceSettings
from chat_common.store_access import KafkaAccessSettings


class Settings(ServiceSettings, KafkaAccessSettings):
    """Field names are the environment variable names.

    `FIRESTORE_EMULATOR_HOST` set: the client (`chat_common.contract.firestore`) talks
    plain gRPC to that emulator with anonymous credentials; empty: production Firestore
    with the ambient Google credentials.
    Kafka credentials and TLS come from `KafkaAccessSettings`.
    """

    KAFKA_BOOTSTRAP_SERVERS: str = "127.0.0.1:9092"
    KAFKA_TOPIC: str = "chat-messages"
    KAFKA_DLQ_TOPIC: str = "chat-messages-dlq"
    KAFKA_GROUP_ID: str = "aggregator"
    # A record that fails this many times in a row (never for Firestore being down) goes to
    # KAFKA_DLQ_TOPIC; one that cannot be decoded fails every time.
    DLQ_AFTER_FAILURES: int = Field(default=3, ge=1)
    # How soon the group notices a crashed member (kill -9) and hands its partitions on.
    KAFKA_SESSION_TIMEOUT_MS: int = Field(default=10_000, ge=6000)
    FIRESTORE_PROJECT: str = "demo-chat"
    FIRESTORE_EMULATOR_HOST: str = "127.0.0.1:8080"
    AGG_WINDOW_MS: int = Field(default=1000, gt=0)
    AGG_MAX_MESSAGES: int = Field(default=100, gt=0)
    # Firestore's document limit is 1 MiB; stay well under it (estimates are conservative).
    AGG_MAX_BYTES: int = Field(default=900_000, gt=1024, le=1_000_000)
    # How long after a window's end the aggregator waits for stragglers before closing it.
    AGG_LATENESS_MS: int = Field(default=200, ge=0)
    # A message whose time UUID is further ahead of this process's clock goes to the DLQ:
    # its group could not complete until then and would hold back the partition's commits.
    AGG_MAX_FUTURE_MS: int = Field(default=60_000, ge=0)
    BATCH_TTL_SECONDS: int = Field(default=86_400, gt=0)
    # Off where a Firestore TTL policy on `expire_at` deletes expired batches (production).
    SWEEP_ENABLED: bool = True
    SWEEP_INTERVAL_SECONDS: float = Field(default=60.0, gt=0)
    # At most this many chats are remembered for the sweep (least recently written dropped).
    SWEEP_MAX_CHATS: int = Field(default=100_000, ge=0)
    # Stop fetching while this many messages wait in memory (open or unwritten groups).
    MAX_BACKLOG_MESSAGES: int = Field(default=50_000, gt=0)
    METRICS_HOST: str = "127.0.0.1"
    METRICS_PORT: int = 8003


@lru_cache
def get_settings() -> Settings:
    return Settings()
