"""The Kafka security settings reach the aggregator's consumer and dead-letter producer:
with a wrong SASL password the local broker (SASL/SCRAM only, infra/rights) refuses them,
while the environment's user (the tests') connects (checked first, so a broker that is
down cannot pass)."""

import asyncio
import uuid

import pytest
from aiokafka.errors import KafkaConnectionError
from pydantic import SecretStr

from aggregator.config import Settings
from chat_common.consume.clients import group_consumer
from chat_common.consume.dead_letters import KafkaDeadLetterSink


async def test_kafka_sasl_settings_reach_the_clients() -> None:
    plain = Settings(ENVIRONMENT="test")
    group = f"access-{uuid.uuid4().hex[:8]}"
    consumer = group_consumer(plain.KAFKA_BOOTSTRAP_SERVERS, group, plain, offset_reset="earliest")
    await asyncio.wait_for(consumer.start(), timeout=60)
    await consumer.stop()
    sasl = Settings(
        ENVIRONMENT="test",
        KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
        KAFKA_SASL_USERNAME=plain.KAFKA_SASL_USERNAME or "aggregator",
        KAFKA_SASL_PASSWORD=SecretStr("not-the-password"),
    )
    refused = group_consumer(sasl.KAFKA_BOOTSTRAP_SERVERS, group, sasl, offset_reset="earliest")
    with pytest.raises(KafkaConnectionError):
        await asyncio.wait_for(refused.start(), timeout=60)
    await refused.stop()
    dead_letters = KafkaDeadLetterSink(sasl.KAFKA_BOOTSTRAP_SERVERS, sasl)
    with pytest.raises(KafkaConnectionError):
        await asyncio.wait_for(dead_letters.send(sasl.KAFKA_DLQ_TOPIC, b"{}", None, []), timeout=60)
