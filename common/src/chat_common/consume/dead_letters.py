"""Parking records that cannot be handled on their topic's dead-letter topic.

A poison record (malformed, breaking the contract, refused by a rule) must never stop its
partition: it is produced to the dead-letter topic as it came, with why, who and where in
headers, and passed. Only when that produce fails is it fetched again, so nothing is
skipped unrecorded. A dead letter is always an error: it is logged so and counted in
`chat_dead_letters_total{group,topic}` (alerts watch it; a `user-events` one means a user
event was not applied).
"""

import logging
from typing import Protocol

from aiokafka import AIOKafkaProducer, ConsumerRecord

from chat_common.consume.metrics import DEAD_LETTER_FAILURES, DEAD_LETTERS
from chat_common.store_access import KafkaAccessSettings, kafka_client_kwargs

logger = logging.getLogger(__name__)

Headers = list[tuple[str, bytes]]


class DeadLetterSink(Protocol):
    """Where dead letters go: `send` returns once Kafka acknowledged, or raises."""

    async def send(
        self, topic: str, value: bytes | None, key: bytes | None, headers: Headers
    ) -> None: ...


class KafkaDeadLetterSink:
    """An idempotent producer (acks=all) started on first use, restarted after a failure,
    so a consumer never needs Kafka to accept writes before its first poison record."""

    def __init__(self, bootstrap_servers: str, access: KafkaAccessSettings) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._access = access
        self._producer: AIOKafkaProducer | None = None

    async def send(
        self, topic: str, value: bytes | None, key: bytes | None, headers: Headers
    ) -> None:
        producer = await self._started()
        try:
            await producer.send_and_wait(topic, value=value, key=key, headers=headers)
        except BaseException:
            await self.close()
            raise

    async def _started(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = AIOKafkaProducer(
                bootstrap_servers=self._bootstrap_servers,
                acks="all",
                enable_idempotence=True,
                **kafka_client_kwargs(self._access),
            )
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def close(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()


class DeadLetters:
    """Parks a group's unusable records on the dead-letter topic of their source topic."""

    def __init__(self, sink: DeadLetterSink, group: str, topics: dict[str, str]) -> None:
        """`topics`: source topic -> its dead-letter topic."""
        self.sink = sink
        self.group = group
        self.topics = topics
        for source in topics:
            # The series exist (at 0) before the first dead letter, for rate() and alerts.
            DEAD_LETTERS.labels(group, source)
            DEAD_LETTER_FAILURES.labels(group, source)

    async def park(self, record: ConsumerRecord, why: str, attempts: int) -> bool:
        """True once the record is on the dead-letter topic; False if Kafka refused it."""
        source = f"{record.topic}/{record.partition}/{record.offset}"
        target = self.topics[record.topic]
        logger.error(
            "dead-lettering %s of group %s to %s after %d attempts: %s",
            source,
            self.group,
            target,
            attempts,
            why,
        )
        headers = [
            ("error", why[:1000].encode()),
            ("group", self.group.encode()),
            ("source", source.encode()),
            ("attempts", str(attempts).encode()),
        ]
        try:
            await self.sink.send(target, record.value, record.key, headers)
        except Exception as exc:  # any refusal: the record is fetched and tried again
            logger.error(
                "dead-letter produce to %s failed (%r); will refetch %s", target, exc, source
            )
            DEAD_LETTER_FAILURES.labels(self.group, record.topic).inc()
            return False
        DEAD_LETTERS.labels(self.group, record.topic).inc()
        return True
