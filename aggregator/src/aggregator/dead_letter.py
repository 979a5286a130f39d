"""Parking records that cannot be aggregated on the dead-letter topic.

A poison record (malformed, ids that are not UUIDs, dated too far ahead) must never stop
its partition: it is produced to the dead-letter topic (with its error and source in
headers) and passed. Only when that produce fails is it fetched again, so nothing is
skipped unrecorded.
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from aggregator import metrics

logger = logging.getLogger(__name__)

# A topic that refuses a record at once (too large, not authorized) must not be hammered:
# each failure in a row waits twice as long before the record is fetched and tried again.
BACKOFF_INITIAL_SECONDS = 0.25
BACKOFF_MAX_SECONDS = 5.0


class DeadLetterTopic:
    """Produces unusable records to `topic`, as they came, with why in a header."""

    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self.producer = producer
        self.topic = topic
        self._backoff = 0.0

    async def park(self, tp: TopicPartition, record: ConsumerRecord, why: str) -> bool:
        """True once the record is on the dead-letter topic; False if Kafka refused it."""
        logger.warning(
            "unusable event at %s[%d]@%d to %s: %s",
            tp.topic,
            tp.partition,
            record.offset,
            self.topic,
            why,
        )
        headers = [
            ("error", why[:1000].encode()),
            ("source", f"{tp.topic}/{tp.partition}/{record.offset}".encode()),
        ]
        try:
            await self.producer.send_and_wait(
                self.topic, value=record.value, key=record.key, headers=headers
            )
        except KafkaError:
            logger.exception("dead-letter produce failed; will refetch offset %d", record.offset)
            metrics.DEAD_LETTER_FAILURES.inc()
            doubled = max(self._backoff * 2, BACKOFF_INITIAL_SECONDS)
            self._backoff = min(doubled, BACKOFF_MAX_SECONDS)
            await asyncio.sleep(self._backoff)
            return False
        self._backoff = 0.0
        metrics.MALFORMED.inc()
        return True
