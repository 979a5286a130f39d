"""Run the inbox consumer inside the service's lifespan, whether Kafka is up or not.

Kafka may be down when the service starts: the consumer is (re)started with backoff in
the background, so the API never waits for it. A new group starts at the end of the
topic; from then on its committed offsets say where to resume.
"""

import asyncio
import logging
from dataclasses import dataclass, field

from google.cloud.firestore import AsyncClient

from chat_common.backoff import Backoff, wait_or_stop
from chat_common.contract.firestore import async_firestore_client
from chat_service.config import Settings
from chat_service.kafka_source import KafkaSource
from chat_service.projections.inbox.consumer import InboxConsumer
from chat_service.store.counts import CountsStore

logger = logging.getLogger(__name__)

_FIRST_RETRY_SECONDS = 0.5
_MAX_RETRY_SECONDS = 5.0


@dataclass(eq=False)
class InboxRunner:
    """Owns the consumer's life: start (retried), run, stop."""

    source: KafkaSource
    counts: CountsStore
    firestore: AsyncClient
    write_interval: float
    receipt_interval: float
    consumer: InboxConsumer | None = field(init=False, default=None)
    _stopping: asyncio.Event = field(init=False, default_factory=asyncio.Event)

    def stop(self) -> None:
        self._stopping.set()
        if self.consumer is not None:
            self.consumer.stop()

    async def run(self) -> None:
        backoff = Backoff(_FIRST_RETRY_SECONDS, _MAX_RETRY_SECONDS)
        while not self._stopping.is_set():
            kafka = self.source.consumer("latest")
            try:
                await kafka.start()
            except Exception as exc:  # aiokafka raises several types for "cannot connect"
                retry = backoff.failed()
                logger.warning("inbox consumer cannot start (%r); retrying in %.1fs", exc, retry)
                await kafka.stop()
                await wait_or_stop(self._stopping, retry)
                continue
            backoff.succeeded()
            consumer = InboxConsumer(
                kafka,
                self.counts,
                self.firestore,
                self.source.topic,
                self.write_interval,
                self.receipt_interval,
            )
            self.consumer = consumer
            consumer.subscribe()
            if self._stopping.is_set():
                consumer.stop()
            try:
                await consumer.run()
            finally:
                await kafka.stop()
        self.firestore.close()


def inbox_runner(settings: Settings, counts: CountsStore) -> InboxRunner:
    """The runner of this service's settings (its own Firestore client)."""
    return InboxRunner(
        KafkaSource(
            settings.KAFKA_BOOTSTRAP_SERVERS,
            settings.KAFKA_TOPIC,
            settings.INBOX_GROUP_ID,
            settings,
        ),
        counts,
        async_firestore_client(settings.FIRESTORE_PROJECT, settings.FIRESTORE_EMULATOR_HOST),
        settings.INBOX_WRITE_INTERVAL_SECONDS,
        settings.INBOX_RECEIPT_INTERVAL_SECONDS,
    )
