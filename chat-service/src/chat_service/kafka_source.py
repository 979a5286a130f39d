"""Where one of chat-service's consumers reads, and the consumer it gets."""

from dataclasses import dataclass
from typing import Literal

from aiokafka import AIOKafkaConsumer

from chat_common.store_access import KafkaAccessSettings, kafka_client_kwargs


@dataclass(frozen=True)
class KafkaSource:
    """A topic, the consumer group that reads it (None: a reader that assigns itself every
    partition, in no group), and how to reach the brokers."""

    bootstrap_servers: str
    topic: str
    group_id: str | None
    access: KafkaAccessSettings

    def consumer(self, offset_reset: Literal["earliest", "latest"]) -> AIOKafkaConsumer:
        """A consumer that commits only by hand (and, in no group, never)."""
        return AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap_servers,
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset=offset_reset,
            **kafka_client_kwargs(self.access),
        )
