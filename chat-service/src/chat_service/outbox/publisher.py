"""The producer that announces stored messages on Kafka (the events are the contract's)."""

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from chat_common.store_access import KafkaAccessSettings, kafka_client_kwargs
from chat_service.domain.model import OutboxEntry
from chat_service.outbox.events import entry_event

logger = logging.getLogger(__name__)


def _sender_dead(producer: AIOKafkaProducer) -> bool:
    """True once the producer's background sender ended (fenced, out-of-order sequence,
    an unexpected error): every later send would fail while metadata still answers.
    aiokafka has no public flag for it, so its sender task is looked at here only."""
    task: asyncio.Task[None] | None = getattr(producer._sender, "sender_task", None)
    return task is not None and task.done()


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
        return self._producer is not None and not _sender_dead(self._producer)

    async def ensure_started(self) -> None:
        """Start the producer if none runs or its sender died (a fenced or out-of-order
        idempotent producer never sends again); KafkaUnavailable if Kafka is unreachable."""
        if self._producer is not None:
            if not _sender_dead(self._producer):
                return
            await self._discard()
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

    async def publish(self, entries: Sequence[OutboxEntry]) -> list[bool]:
        """Send the entries' events; per entry, whether Kafka acknowledged it.

        Returns within the request timeout whatever Kafka does: what is not acknowledged
        by then counts as failed (the outbox announces it again; a late ack is a replay).
        """
        producer = self._producer
        if producer is None or _sender_dead(producer):
            raise KafkaUnavailable("producer not started or its sender died")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._request_timeout_ms / 1000
        outcomes = [False] * len(entries)
        pending: dict[asyncio.Future[object], int] = {}
        for index, entry in enumerate(entries):
            event = entry_event(entry)
            try:
                # `send` waits for room in the producer's buffer: bounded by the deadline.
                send = producer.send(self.topic, event.encode(), key=event.key())
                future = await asyncio.wait_for(send, max(0.0, deadline - loop.time()))
            except TimeoutError:
                logger.warning(
                    "Kafka producer buffer stayed full; %d events left", len(entries) - index
                )
                break
            except Exception as exc:  # a send refused before queueing: the outbox keeps it
                logger.warning("Kafka refused outbox entry %s: %r", entry.entry_id, exc)
                continue
            pending[future] = index
        if pending:
            done, not_done = await asyncio.wait(pending, timeout=max(0.0, deadline - loop.time()))
            for future in done:
                failure = (
                    KafkaUnavailable("send cancelled") if future.cancelled() else future.exception()
                )
                if failure is None:
                    outcomes[pending[future]] = True
                else:
                    logger.warning("Kafka did not acknowledge an event: %r", failure)
            if not_done:
                logger.warning("%d events unacknowledged within the timeout", len(not_done))
        if _sender_dead(producer):
            logger.error("Kafka producer's sender died; it is replaced on the next attempt")
            await self._discard()
        return outcomes

    async def send_one(self, topic: str, value: bytes, key: bytes) -> None:
        """One record outside the outbox (a report), acknowledged by all in-sync replicas
        within the request timeout, or KafkaUnavailable: the caller then accepts nothing."""
        producer = self._producer
        if producer is None or _sender_dead(producer):
            raise KafkaUnavailable("producer not started or its sender died")
        try:
            await asyncio.wait_for(
                producer.send_and_wait(topic, value, key=key), self._request_timeout_ms / 1000
            )
        except Exception as exc:  # aiokafka raises several types for "not acknowledged"
            raise KafkaUnavailable(f"Kafka did not acknowledge: {exc!r}") from exc

    async def check(self) -> None:
        """Readiness: raise unless the producer runs and a broker answers a metadata request."""
        producer = self._producer
        if producer is None:
            raise KafkaUnavailable("producer not started")
        if _sender_dead(producer):
            raise KafkaUnavailable("producer's sender died")
        if not await producer.client.fetch_all_metadata():
            raise KafkaUnavailable("no broker answered")

    async def _discard(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            # Its sender is gone: stopping only closes connections, but never wait long.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), self._request_timeout_ms / 1000)

    async def stop(self) -> None:
        """Flush what is queued and stop the producer."""
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()
