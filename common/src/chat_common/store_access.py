"""How services authenticate to their stores and encrypt the way there, defined once.

Each mixin holds the settings of one store's security (credentials, TLS, consistency);
a service's `Settings` inherits the mixins of the stores it uses, and the functions below
turn them into the keyword arguments of the official clients. Local defaults are plaintext
without credentials, as `make up` runs the stores; a production overlay sets the rest from
the operators' Secrets (see docs/deploy.md).
"""

import ssl
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PostgresSslMode = Literal["disable", "prefer", "require", "verify-ca", "verify-full"]
CassandraConsistency = Literal["ONE", "LOCAL_ONE", "QUORUM", "LOCAL_QUORUM", "EACH_QUORUM", "ALL"]


# The same as ServiceSettings': pydantic merges the configs of all bases, the last one
# winning, so a mixin with the defaults would make a service's settings case-insensitive.
_CONFIG = SettingsConfigDict(case_sensitive=True, extra="ignore")


def tls_context(ca_file: str, check_hostname: bool = True) -> ssl.SSLContext:
    """A client TLS context that verifies the server against `ca_file` (or the system CAs).

    Operators issue their own CAs (Strimzi's cluster CA, CloudNativePG's `<cluster>-ca`),
    so the CA is usually a mounted file rather than the system bundle.
    """
    context = ssl.create_default_context(cafile=ca_file or None)
    context.check_hostname = check_hostname
    return context


class KafkaAccessSettings(BaseSettings):
    """Kafka authentication and encryption, as aiokafka names them."""

    model_config = _CONFIG

    KAFKA_SECURITY_PROTOCOL: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    # Strimzi's KafkaUser with `scram-sha-512` authentication: the user name is the
    # KafkaUser's name, the password is the `password` key of the Secret it generates.
    KAFKA_SASL_MECHANISM: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    KAFKA_SASL_USERNAME: str = ""
    # Unset where the broker takes no credentials (local runs); from a Secret otherwise.
    KAFKA_SASL_PASSWORD: SecretStr | None = None
    # PEM file of the CA that signed the brokers' certificates; empty: the system CAs.
    KAFKA_SSL_CA_FILE: str = ""

    @model_validator(mode="after")
    def _sasl_needs_credentials(self) -> "KafkaAccessSettings":
        if self.KAFKA_SECURITY_PROTOCOL.startswith("SASL_") and not (
            self.KAFKA_SASL_USERNAME and self.KAFKA_SASL_PASSWORD
        ):
            raise ValueError(
                f"KAFKA_SECURITY_PROTOCOL={self.KAFKA_SECURITY_PROTOCOL} needs "
                "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
            )
        return self


def kafka_client_kwargs(settings: KafkaAccessSettings) -> dict[str, Any]:
    """Keyword arguments for AIOKafkaProducer / AIOKafkaConsumer / AIOKafkaAdminClient."""
    protocol = settings.KAFKA_SECURITY_PROTOCOL
    kwargs: dict[str, Any] = {"security_protocol": protocol}
    if protocol in ("SSL", "SASL_SSL"):
        kwargs["ssl_context"] = tls_context(settings.KAFKA_SSL_CA_FILE)
    if protocol.startswith("SASL_"):
        kwargs["sasl_mechanism"] = settings.KAFKA_SASL_MECHANISM
        kwargs["sasl_plain_username"] = settings.KAFKA_SASL_USERNAME
        password = settings.KAFKA_SASL_PASSWORD
        kwargs["sasl_plain_password"] = password.get_secret_value() if password else ""
    return kwargs


class CassandraAccessSettings(BaseSettings):
    """Cassandra credentials, client encryption and the consistency of every request."""

    model_config = _CONFIG

    # cass-operator's `<cluster>-superuser` Secret (or a role of your own); empty: no auth.
    CASSANDRA_USERNAME: str = ""
    CASSANDRA_PASSWORD: SecretStr | None = None
    CASSANDRA_TLS_ENABLED: bool = False
    # PEM file of the CA that signed the nodes' certificates; empty: the system CAs.
    CASSANDRA_TLS_CA_FILE: str = ""
    # LOCAL_QUORUM: with RF 3 a write survives the loss of any one replica, and a read at
    # the same level always sees it; on one node it is simply that node.
    CASSANDRA_CONSISTENCY_LEVEL: CassandraConsistency = "LOCAL_QUORUM"
    # The datacenter this service runs in: requests go to its nodes ("LOCAL_" levels count
    # its replicas) and the migration creates the keyspace with NetworkTopologyStrategy
    # there. Empty: the contact points' datacenter, and SimpleStrategy (one local node).
    CASSANDRA_LOCAL_DC: str = Field(default="", pattern=r"^[A-Za-z0-9_.-]*$")

    @model_validator(mode="after")
    def _password_with_username(self) -> "CassandraAccessSettings":
        password = self.CASSANDRA_PASSWORD.get_secret_value() if self.CASSANDRA_PASSWORD else ""
        if bool(self.CASSANDRA_USERNAME) != bool(password):
            raise ValueError("set both CASSANDRA_USERNAME and CASSANDRA_PASSWORD, or neither")
        return self


def cassandra_cluster_kwargs(settings: CassandraAccessSettings) -> dict[str, Any]:
    """Keyword arguments for `cassandra.cluster.Cluster`: auth provider and SSL context.

    The driver is imported here, not at module level, so services without Cassandra do not
    need it installed (it comes with the `cassandra` extra of this package).
    """
    from cassandra.auth import PlainTextAuthProvider  # noqa: PLC0415

    kwargs: dict[str, Any] = {}
    if settings.CASSANDRA_USERNAME and settings.CASSANDRA_PASSWORD:
        kwargs["auth_provider"] = PlainTextAuthProvider(
            username=settings.CASSANDRA_USERNAME,
            password=settings.CASSANDRA_PASSWORD.get_secret_value(),
        )
    if settings.CASSANDRA_TLS_ENABLED:
        # The driver reaches nodes by the IP addresses gossip reports, which certificates
        # rarely name: verify the chain against the CA, not the host name.
        kwargs["ssl_context"] = tls_context(settings.CASSANDRA_TLS_CA_FILE, check_hostname=False)
    return kwargs


def cassandra_consistency(settings: CassandraAccessSettings) -> int:
    """CASSANDRA_CONSISTENCY_LEVEL as the driver's ConsistencyLevel value."""
    from cassandra import ConsistencyLevel  # noqa: PLC0415

    value: int = ConsistencyLevel.name_to_value[settings.CASSANDRA_CONSISTENCY_LEVEL]
    return value


class PostgresAccessSettings(BaseSettings):
    """The Postgres password and TLS, kept out of DATABASE_URL so the URL can sit in a
    ConfigMap and the password in a Secret (CloudNativePG's `<cluster>-app`)."""

    model_config = _CONFIG

    # Unset: the password in DATABASE_URL, if any (local trust authentication has none).
    DATABASE_PASSWORD: SecretStr | None = None
    # libpq's sslmode names: `prefer` (asyncpg's default) encrypts when the server offers
    # it, `verify-full` also checks the certificate and host name against the CA file.
    DATABASE_SSL_MODE: PostgresSslMode = "prefer"
    DATABASE_SSL_CA_FILE: str = ""


def asyncpg_connect_kwargs(settings: PostgresAccessSettings) -> dict[str, Any]:
    """Keyword arguments for `asyncpg.connect` (SQLAlchemy's `connect_args`)."""
    kwargs: dict[str, Any] = {}
    if settings.DATABASE_PASSWORD:
        kwargs["password"] = settings.DATABASE_PASSWORD.get_secret_value()
    mode = settings.DATABASE_SSL_MODE
    if mode in ("verify-ca", "verify-full"):
        kwargs["ssl"] = tls_context(settings.DATABASE_SSL_CA_FILE, mode == "verify-full")
    else:
        kwargs["ssl"] = False if mode == "disable" else mode
    return kwargs
