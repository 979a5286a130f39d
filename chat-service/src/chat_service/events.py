"""The Kafka event of a stored message and the producer that publishes it."""

import asyncio
import logging
import uuid
from collections.abc import Sequence
from typing import Literal

from aiokafka import AIOKafkaProducer
from pydantic import BaseModel

from chat_common.store_access import KafkaAccessSettings, kafka_client_kwargs
from chat_service.models import Message
from chat_service.timeuuids import rfc3339_millis

logger = logging.getLogger(__name__)


class MessageEvent(BaseModel):
    """Value of a `chat-messages` record; the key is the chat id."""

    v: Literal[1] = 1
    id: uuid.UUID
    chat_id: uuid.UUID
    sender_id: uuid.UUID
    text: str
    sent_at: str

    @classmethod
    def of(cls, message: Message) -> "MessageEvent":
        return cls(
            id=message.id,
            chat_id=message.chat_id,
            sender_id=message.sender_id,
            text=message.text,
            sent_at=rfc3339_millis(message.sent_at),
        )

    def key(self) -> bytes:
        """Record key: the chat id, so one chat's messages stay ordered in one partition."""
        return str(self.chat_id).encode()

    def value(self) -> bytes:
        return self.model_dump_json().encode()


class KafkaUnavailable(Exception):
    """The producer could not be started or a send was not acknowledged."""


class EventPublisher:
    """One idempotent producer (acks=all) per process, started when Kafka is reachable.

    Kafka may be down when the service starts; `ensure_started` is retried by the outbox
    relay, so the service never refuses to start because of Kafka.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        topic: str,
        request_timeout_ms: int,
        access: KafkaAccessSettings | None = None,
    ) -> None:
        self._access = access or KafkaAccessSettings()
        self._bootstrap_servers = bootstrap_servers
        self.topic = topic
        self._request_timeout_ms = request_timeout_ms
        self._producer: AIOKafkaProducer | None = None

    @property
    def started(self) -> bool:
        return self._producer is not None

    async def ensure_started(self) -> None:
        """Start the producer if it is not running; KafkaUnavailable if Kafka is unreachable."""
        if self._producer is not None:
            return
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap_servers,
            acks="all",
            enable_idempotence=True,
            request_timeout_ms=self._request_timeout_ms,
            linger_ms=5,
            **kafka_client_kwargs(self._access),
        )
        try:
            await producer.start()
        except Exception as exc:  # aiokafka raises several types for "cannot connect"
            await producer.stop()
            raise KafkaUnavailable(f"cannot start Kafka producer: {exc!r}") from exc
        except BaseException:  # cancelled while starting: release its connections
            await producer.stop()
            raise
        self._producer = producer
        logger.info("Kafka producer started (%s)", self._bootstrap_servers)

    async def publish(self, messages: Sequence[Message]) -> list[bool]:
        """Send the messages' events; per message, whether Kafka acknowledged it."""
        producer = self._producer
        if producer is None:
            raise KafkaUnavailable("producer not started")
        sends = []
        for message in messages:
            event = MessageEvent.of(message)
            try:
                sends.append(await producer.send(self.topic, event.value(), key=event.key()))
            except Exception as exc:  # a send refused before queueing: the outbox keeps it
                logger.warning("Kafka refused event %s: %r", message.id, exc)
                sends.append(None)
        results = await asyncio.gather(
            *(send for send in sends if send is not None), return_exceptions=True
        )
        outcomes: list[bool] = []
        iterator = iter(results)
        for send in sends:
            if send is None:
                outcomes.append(False)
                continue
            result = next(iterator)
            if isinstance(result, BaseException):
                logger.warning("Kafka did not acknowledge an event: %r", result)
                outcomes.append(False)
            else:
                outcomes.append(True)
        return outcomes

    async def check(self) -> None:
        """Readiness: raise unless the producer runs and a broker answers a metadata request."""
        producer = self._producer
        if producer is None:
            raise KafkaUnavailable("producer not started")
        if not await producer.client.fetch_all_metadata():
            raise KafkaUnavailable("no broker answered")

    async def stop(self) -> None:
        """Flush what is queued and stop the producer."""
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()
