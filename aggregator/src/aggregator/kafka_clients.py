"""The aggregator's Kafka clients, built with the production settings."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from chat_common.store_access import KafkaAccessSettings, kafka_client_kwargs


async def start_kafka_clients(
    bootstrap_servers: str,
    group_id: str,
    session_timeout_ms: int = 10_000,
    access: KafkaAccessSettings | None = None,
) -> tuple[AIOKafkaConsumer, AIOKafkaProducer]:
    """The consumer (manual commits) and the dead-letter producer, started.

    One place for their settings, so tests and benchmarks run what production runs;
    `access` gives their credentials and TLS (default: plaintext).
    """
    security = kafka_client_kwargs(access or KafkaAccessSettings())
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers, acks="all", enable_idempotence=True, **security
    )
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        # Room for a final flush in the revoke listener before the group gives up on us.
        rebalance_timeout_ms=30_000,
        session_timeout_ms=session_timeout_ms,
        heartbeat_interval_ms=min(3000, session_timeout_ms // 3),
        **security,
    )
    try:
        await producer.start()
        await consumer.start()
    except BaseException:
        # Close both, started or not: one refused at start (Kafka down, credentials wrong)
        # still holds a client that would otherwise leak.
        await consumer.stop()
        await producer.stop()
        raise
    return consumer, producer
