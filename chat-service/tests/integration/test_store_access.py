"""The store security settings reach the real clients: a client given a wrong Kafka
password, or told to use TLS against the plaintext Cassandra, is refused, while the same
client with the environment's settings (the tests' Kafka user) connects (checked first, so
a server that is down cannot pass)."""

import asyncio

import pytest
from cassandra.cluster import NoHostAvailable
from pydantic import SecretStr

from chat_service.config import Settings
from chat_service.outbox.publisher import EventPublisher, KafkaUnavailable
from chat_service.store.cassandra import build_cluster


def settings_for_test(**overrides: object) -> Settings:
    return Settings(ENVIRONMENT="test", **overrides)  # type: ignore[arg-type]


def publisher(settings: Settings) -> EventPublisher:
    return EventPublisher(
        settings.KAFKA_BOOTSTRAP_SERVERS, settings.KAFKA_TOPIC, 3000, access=settings
    )


async def test_kafka_sasl_settings_reach_the_producer() -> None:
    plain = publisher(settings_for_test())
    await asyncio.wait_for(plain.ensure_started(), timeout=60)
    await plain.stop()
    sasl = publisher(
        settings_for_test(
            KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
            KAFKA_SASL_USERNAME="chat-api",
            KAFKA_SASL_PASSWORD=SecretStr("not-the-password"),
        )
    )
    # The SCRAM exchange fails and the bootstrap with it, moments after a client with the
    # right password started against the same broker.
    with pytest.raises(KafkaUnavailable, match="Unable to bootstrap"):
        await asyncio.wait_for(sasl.ensure_started(), timeout=60)
    assert not sasl.started


def test_cassandra_tls_setting_reaches_the_driver() -> None:
    plain_settings = settings_for_test()
    hosts, port = plain_settings.cassandra_contact_points, plain_settings.CASSANDRA_PORT
    plain = build_cluster(hosts, port, 3.0, 3.0, access=plain_settings)
    try:
        plain.connect().execute("SELECT release_version FROM system.local")
    finally:
        plain.shutdown()
    tls = build_cluster(hosts, port, 3.0, 3.0, access=settings_for_test(CASSANDRA_TLS_ENABLED=True))
    try:
        # A TLS handshake against the plaintext CQL port cannot succeed.
        with pytest.raises(NoHostAvailable) as refused:
            tls.connect()
        assert "ssl" in repr(refused.value.errors).lower(), refused.value.errors
    finally:
        tls.shutdown()
