"""Run the inbox consumer inside the service's lifespan, whether Kafka is up or not.

Kafka may be down when the service starts: the consumer is (re)started with backoff in
the background, so the API never waits for it. A new group starts at the end of the
topic; from then on its committed offsets say where to resume.
"""

import asyncio
import contextlib
import logging

from aiokafka import AIOKafkaConsumer
from google.cloud.firestore import AsyncClient

from chat_common.contract.firestore import async_firestore_client
from chat_common.store_access import KafkaAccessSettings, kafka_client_kwargs
from chat_service.config import Settings
from chat_service.inbox.consumer import InboxConsumer
from chat_service.inbox.counts_store import CountsStore

logger = logging.getLogger(__name__)

_FIRST_RETRY_SECONDS = 0.5
_MAX_RETRY_SECONDS = 5.0


class InboxRunner:
    """Owns the consumer's life: start (retried), run, stop."""

    def __init__(
        self,
        bootstrap_servers: str,
        topic: str,
        group_id: str,
        counts: CountsStore,
        firestore: AsyncClient,
        write_interval: float,
        receipt_interval: float,
        access: KafkaAccessSettings,
    ) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._topic = topic
        self._group_id = group_id
        self._counts = counts
        self._firestore = firestore
        self._write_interval = write_interval
        self._receipt_interval = receipt_interval
        self._access = access
        self._stopping = asyncio.Event()
        self.consumer: InboxConsumer | None = None

    def stop(self) -> None:
        self._stopping.set()
        if self.consumer is not None:
            self.consumer.stop()

    async def run(self) -> None:
        retry = _FIRST_RETRY_SECONDS
        while not self._stopping.is_set():
            kafka = AIOKafkaConsumer(
                bootstrap_servers=self._bootstrap_servers,
                group_id=self._group_id,
                enable_auto_commit=False,
                auto_offset_reset="latest",
                **kafka_client_kwargs(self._access),
            )
            try:
                await kafka.start()
            except Exception as exc:  # aiokafka raises several types for "cannot connect"
                logger.warning("inbox consumer cannot start (%r); retrying in %.1fs", exc, retry)
                await kafka.stop()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), retry)
                retry = min(retry * 2, _MAX_RETRY_SECONDS)
                continue
            retry = _FIRST_RETRY_SECONDS
            consumer = InboxConsumer(
                kafka,
                self._counts,
                self._firestore,
                self._topic,
                self._write_interval,
                self._receipt_interval,
            )
            self.consumer = consumer
            consumer.subscribe()
            if self._stopping.is_set():
                consumer.stop()
            try:
                await consumer.run()
            finally:
                await kafka.stop()
        self._firestore.close()


def inbox_runner(settings: Settings, counts: CountsStore) -> InboxRunner:
    """The runner of this service's settings (its own Firestore client)."""
    return InboxRunner(
        settings.KAFKA_BOOTSTRAP_SERVERS,
        settings.KAFKA_TOPIC,
        settings.INBOX_GROUP_ID,
        counts,
        async_firestore_client(settings.FIRESTORE_PROJECT, settings.FIRESTORE_EMULATOR_HOST),
        settings.INBOX_WRITE_INTERVAL_SECONDS,
        settings.INBOX_RECEIPT_INTERVAL_SECONDS,
        settings,
    )
