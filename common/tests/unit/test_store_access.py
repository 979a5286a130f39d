"""Store security settings become the clients' keyword arguments, and bad ones are refused."""

import ssl

import pytest
from cassandra import ConsistencyLevel
from cassandra.auth import PlainTextAuthProvider
from pydantic import SecretStr, ValidationError

from chat_common.config import ServiceSettings
from chat_common.store_access import (
    CassandraAccessSettings,
    KafkaAccessSettings,
    PostgresAccessSettings,
    asyncpg_connect_kwargs,
    cassandra_cluster_kwargs,
    cassandra_consistency,
    kafka_client_kwargs,
)


@pytest.fixture(autouse=True)
def no_store_credentials_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The defaults are under test: not a test run's own store user (infra/run-tests.sh)."""
    for model in (KafkaAccessSettings, CassandraAccessSettings, PostgresAccessSettings):
        for name in model.model_fields:
            monkeypatch.delenv(name, raising=False)


class ServiceLike(ServiceSettings, KafkaAccessSettings, CassandraAccessSettings):
    """How a service combines the mixins with the settings base."""


def test_kafka_plaintext_by_default() -> None:
    assert kafka_client_kwargs(KafkaAccessSettings()) == {"security_protocol": "PLAINTEXT"}


def test_kafka_scram_over_tls() -> None:
    kwargs = kafka_client_kwargs(
        KafkaAccessSettings(
            KAFKA_SECURITY_PROTOCOL="SASL_SSL",
            KAFKA_SASL_USERNAME="chat-service",
            KAFKA_SASL_PASSWORD=SecretStr("s3cret"),
        )
    )
    context = kwargs.pop("ssl_context")
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert kwargs == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "chat-service",
        "sasl_plain_password": "s3cret",
    }


def test_kafka_tls_without_sasl_sends_no_credentials() -> None:
    kwargs = kafka_client_kwargs(KafkaAccessSettings(KAFKA_SECURITY_PROTOCOL="SSL"))
    assert set(kwargs) == {"security_protocol", "ssl_context"}


def test_kafka_sasl_without_a_password_is_refused() -> None:
    with pytest.raises(ValidationError, match="needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"):
        KafkaAccessSettings(KAFKA_SECURITY_PROTOCOL="SASL_SSL", KAFKA_SASL_USERNAME="u")


def test_a_missing_ca_file_fails_at_start_not_at_first_use() -> None:
    settings = KafkaAccessSettings(KAFKA_SECURITY_PROTOCOL="SSL", KAFKA_SSL_CA_FILE="/nope/ca.crt")
    with pytest.raises(FileNotFoundError):
        kafka_client_kwargs(settings)


def test_cassandra_without_credentials_or_tls() -> None:
    assert cassandra_cluster_kwargs(CassandraAccessSettings()) == {}


def test_cassandra_credentials_and_tls() -> None:
    kwargs = cassandra_cluster_kwargs(
        CassandraAccessSettings(
            CASSANDRA_USERNAME="chat-superuser",
            CASSANDRA_PASSWORD=SecretStr("pw"),
            CASSANDRA_TLS_ENABLED=True,
        )
    )
    provider = kwargs["auth_provider"]
    assert isinstance(provider, PlainTextAuthProvider)
    assert (provider.username, provider.password) == ("chat-superuser", "pw")
    context = kwargs["ssl_context"]
    # Nodes are reached by IP: the chain is verified, the host name is not.
    assert context.verify_mode == ssl.CERT_REQUIRED and not context.check_hostname


def test_cassandra_username_without_password_is_refused() -> None:
    with pytest.raises(ValidationError, match="CASSANDRA_USERNAME and CASSANDRA_PASSWORD"):
        CassandraAccessSettings(CASSANDRA_USERNAME="someone")


@pytest.mark.parametrize(
    ("name", "value"),
    [("LOCAL_QUORUM", ConsistencyLevel.LOCAL_QUORUM), ("ONE", ConsistencyLevel.ONE)],
)
def test_cassandra_consistency_level(name: str, value: int) -> None:
    assert cassandra_consistency(CassandraAccessSettings(CASSANDRA_CONSISTENCY_LEVEL=name)) == value


def test_unknown_consistency_level_is_refused() -> None:
    with pytest.raises(ValidationError):
        CassandraAccessSettings(CASSANDRA_CONSISTENCY_LEVEL="LOCAL_QUOROM")


def test_postgres_defaults_keep_asyncpg_behaviour() -> None:
    assert asyncpg_connect_kwargs(PostgresAccessSettings()) == {"ssl": "prefer"}


def test_postgres_password_and_verified_tls() -> None:
    kwargs = asyncpg_connect_kwargs(
        PostgresAccessSettings(DATABASE_PASSWORD=SecretStr("pw"), DATABASE_SSL_MODE="verify-full")
    )
    assert kwargs["password"] == "pw"
    assert kwargs["ssl"].check_hostname and kwargs["ssl"].verify_mode == ssl.CERT_REQUIRED
    verify_ca = asyncpg_connect_kwargs(PostgresAccessSettings(DATABASE_SSL_MODE="verify-ca"))
    assert not verify_ca["ssl"].check_hostname
    assert asyncpg_connect_kwargs(PostgresAccessSettings(DATABASE_SSL_MODE="disable")) == {
        "ssl": False
    }


def test_mixins_keep_the_service_settings_case_sensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("kafka_security_protocol", "SSL")
    monkeypatch.setenv("CASSANDRA_CONSISTENCY_LEVEL", "ONE")
    settings = ServiceLike()
    assert settings.KAFKA_SECURITY_PROTOCOL == "PLAINTEXT"
    assert settings.CASSANDRA_CONSISTENCY_LEVEL == "ONE"


def test_placeholder_store_passwords_are_refused_in_prod() -> None:
    with pytest.raises(ValidationError, match="KAFKA_SASL_PASSWORD holds a placeholder"):
        ServiceLike(
            ENVIRONMENT="prod",
            KAFKA_SECURITY_PROTOCOL="SASL_SSL",
            KAFKA_SASL_USERNAME="u",
            KAFKA_SASL_PASSWORD=SecretStr("dev-only password"),
        )
