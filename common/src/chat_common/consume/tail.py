"""A per-replica listener: one process's own reading of a whole topic, in no consumer group.

Each replica of a service that must see every event of a topic for itself (to keep a
cache right: deleted accounts, later memberships and blocks) runs a `Tail`. Its consumer
is in no group (`clients.tail_consumer`): it takes every partition itself, so scaling the
service rebalances nothing, and commits nothing, so it reads from where the consumer's
offset reset says (the beginning, or the end) at every start. It is (re)started with
backoff while Kafka is down; each record goes to `handle`, which must not block.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, ConsumerRecord

from chat_common.backoff import Backoff, wait_or_stop

logger = logging.getLogger(__name__)

_FIRST_RETRY_SECONDS = 0.5
_MAX_RETRY_SECONDS = 5.0
_POLL_MS = 500


class Tail:
    """Reads every partition of `topic` into `handle` until `stop`."""

    def __init__(
        self,
        consumer: Callable[[], AIOKafkaConsumer],
        topic: str,
        handle: Callable[[ConsumerRecord], None],
    ) -> None:
        """`consumer` makes a new (unstarted) consumer in no group for each start."""
        self._make_consumer = consumer
        self.topic = topic
        self._handle = handle
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        backoff = Backoff(_FIRST_RETRY_SECONDS, _MAX_RETRY_SECONDS)
        while not self._stopping.is_set():
            consumer = self._make_consumer()
            try:
                await consumer.start()
                backoff.succeeded()
                await self._read(consumer)
            except Exception as exc:  # Kafka down or restarting: start over after a pause
                retry = backoff.failed()
                logger.warning("tail of %s: %r; retrying in %.1fs", self.topic, exc, retry)
                await wait_or_stop(self._stopping, retry)
            finally:
                with contextlib.suppress(Exception):
                    await consumer.stop()

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        # In no group, a subscription is every partition of the topic, new ones included.
        consumer.subscribe([self.topic])
        while not self._stopping.is_set():
            batches = await consumer.getmany(timeout_ms=_POLL_MS)
            for records in batches.values():
                for record in records:
                    self._handle(record)
