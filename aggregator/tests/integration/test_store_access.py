"""The Kafka security settings reach the aggregator's consumer and DLQ producer: with SASL
set, the local plaintext broker refuses them, while the local defaults connect (checked
first, so a broker that is down cannot pass)."""

import asyncio
import uuid

import pytest
from aiokafka.errors import KafkaConnectionError
from pydantic import SecretStr

from aggregator.config import Settings
from aggregator.consumer import start_kafka_clients


async def test_kafka_sasl_settings_reach_the_clients() -> None:
    plain = Settings(ENVIRONMENT="test")
    group = f"access-{uuid.uuid4().hex[:8]}"
    consumer, producer = await asyncio.wait_for(
        start_kafka_clients(plain.KAFKA_BOOTSTRAP_SERVERS, group, access=plain), timeout=60
    )
    await consumer.stop()
    await producer.stop()
    sasl = Settings(
        ENVIRONMENT="test",
        KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
        KAFKA_SASL_USERNAME="aggregator",
        KAFKA_SASL_PASSWORD=SecretStr("not-the-password"),
    )
    with pytest.raises(KafkaConnectionError):
        await asyncio.wait_for(
            start_kafka_clients(sasl.KAFKA_BOOTSTRAP_SERVERS, group, access=sasl), timeout=60
        )
