"""Settings of the auth service; the only module that reads the environment."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator

from auth_service.client_address import ClientAddresses, parse_networks
from auth_validator import ValidatorSettings
from chat_common.config import ServiceSettings
from chat_common.contract.events import USER_EVENTS_TOPIC
from chat_common.store_access import KafkaAccessSettings, PostgresAccessSettings


class DatabaseSettings(ServiceSettings, PostgresAccessSettings):
    """What the migration command needs: where Postgres is and how long to wait for it.

    The password and TLS come from `PostgresAccessSettings`, so DATABASE_URL need not
    carry the password."""

    DATABASE_URL: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/chat"
    # Short bounds so a Postgres outage answers 503 quickly instead of hanging requests.
    DATABASE_CONNECT_TIMEOUT_SECONDS: float = Field(default=3, gt=0)
    DATABASE_COMMAND_TIMEOUT_SECONDS: float = Field(default=5, gt=0)
    DATABASE_POOL_SIZE: int = Field(default=10, ge=1)
    DATABASE_WAIT_SECONDS: float = Field(default=60, gt=0)


class Settings(DatabaseSettings, KafkaAccessSettings):
    """Every variable the auth service reads, with working local defaults."""

    # Where `user.deleted` goes (topic `user-events`), published from the Postgres outbox
    # at once after a deletion, and retried this often while Kafka is down.
    KAFKA_BOOTSTRAP_SERVERS: str = "127.0.0.1:9092"
    USER_EVENTS_TOPIC: str = USER_EVENTS_TOPIC
    USER_EVENTS_RELAY_INTERVAL_SECONDS: float = Field(default=1.0, gt=0)

    # The signing key: a PEM file (the usual way; a mounted Secret in Kubernetes) or the PEM
    # itself. There is no default key: one of the two must be given.
    JWT_PRIVATE_KEY_FILE: Path | None = None
    JWT_PRIVATE_KEY: SecretStr | None = None
    # During a rotation, the previous key's public half stays published so tokens it signed
    # keep verifying until they expire.
    JWT_PREVIOUS_PUBLIC_KEY_FILE: Path | None = None
    JWT_ISSUER: str = "chat-auth"
    JWT_AUDIENCE: str = "chat-backend"
    ACCESS_TOKEN_TTL_SECONDS: int = Field(default=900, ge=10)
    REFRESH_TOKEN_TTL_SECONDS: int = Field(default=2_592_000, ge=60)
    JWT_LEEWAY_SECONDS: float = Field(default=30, ge=0)
    # Browser origins allowed to call this service (comma-separated): the chat web page
    # is served by chat-service, a different origin. Empty allows none.
    CORS_ALLOW_ORIGINS: str = "http://127.0.0.1:8002,http://localhost:8002"

    # Argon2id cost: OWASP's minimum profile (19 MiB, 2 passes, 1 lane) suits a 2-core box.
    ARGON2_TIME_COST: int = Field(default=2, ge=1)
    ARGON2_MEMORY_COST_KIB: int = Field(default=19_456, ge=8)
    ARGON2_PARALLELISM: int = Field(default=1, ge=1)
    # Hashes computed at once (each takes a core and ARGON2_MEMORY_COST_KIB): about the
    # pod's CPU allowance. A request waits at most ARGON2_QUEUE_TIMEOUT_SECONDS for a slot,
    # then gets 503 with Retry-After instead of piling up threads and memory.
    ARGON2_MAX_CONCURRENCY: int = Field(default=2, ge=1)
    ARGON2_QUEUE_TIMEOUT_SECONDS: float = Field(default=3, gt=0)

    # A refresh session ends this long after its login, however often it is rotated.
    REFRESH_SESSION_LIFETIME_SECONDS: int = Field(default=2_592_000, ge=60)

    # 429 limits (with Retry-After), counted in Postgres so every replica shares them, per
    # fixed window of RATE_LIMIT_WINDOW_SECONDS.
    RATE_LIMIT_WINDOW_SECONDS: int = Field(default=900, ge=1)
    LOGIN_FAILURES_PER_USER_ADDRESS: int = Field(default=5, ge=1)
    LOGIN_FAILURES_PER_ADDRESS: int = Field(default=100, ge=1)
    # Per account, from any address: this many attempts, then one per base seconds,
    # doubling with each further failure up to the maximum; a success resets it.
    LOGIN_FAILURES_PER_ACCOUNT: int = Field(default=20, ge=1)
    LOGIN_BACKOFF_BASE_SECONDS: float = Field(default=2.0, gt=0)
    LOGIN_BACKOFF_MAX_SECONDS: float = Field(default=900.0, gt=0)
    REGISTRATIONS_PER_ADDRESS: int = Field(default=20, ge=1)
    # Firebase custom tokens per user: a client needs one per Firebase sign-in.
    FIREBASE_TOKENS_PER_USER: int = Field(default=30, ge=1)
    # The proxies in front of the service (comma-separated networks or addresses, like
    # `10.0.0.0/8`): from a trusted peer, the client is the right-most X-Forwarded-For
    # entry that is not one of them. Empty: the TCP peer is the client.
    TRUSTED_PROXIES: str = ""
    # Legacy, before TRUSTED_PROXIES: the last X-Forwarded-For entry, whoever the peer is
    # (exactly one proxy that appends it). Not together with TRUSTED_PROXIES.
    TRUST_X_FORWARDED_FOR: bool = False

    # The Firebase service-account key that signs custom tokens (POST /auth/firebase-token):
    # the JSON file (a mounted Secret in Kubernetes) or the JSON itself. Without either
    # that route answers 503; the rest of the service works.
    FIREBASE_SERVICE_ACCOUNT_FILE: Path | None = None
    FIREBASE_SERVICE_ACCOUNT_JSON: SecretStr | None = None
    # Production instead: no key at all. Custom tokens are signed by IAM signBlob as this
    # service account (its email), with the pod's own Google identity (Workload Identity),
    # which needs the Token Creator role on it. With ENVIRONMENT=prod a key is refused.
    FIREBASE_SERVICE_ACCOUNT_ID: str = ""
    # Where the session revocation documents go (firestore.rules read them): the project,
    # and the emulator's host:port (empty: production Firestore). With Firebase configured,
    # logout-all and deletion also revoke / delete the Firebase user; firebase-admin talks
    # to an Auth emulator when FIREBASE_AUTH_EMULATOR_HOST is set (it reads that itself).
    FIRESTORE_PROJECT: str = "demo-chat"
    FIRESTORE_EMULATOR_HOST: str = "127.0.0.1:8080"
    FIREBASE_AUTH_EMULATOR_HOST: str = ""

    @field_validator("FIREBASE_SERVICE_ACCOUNT_FILE", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # An env file says "not configured" with an empty value (FIREBASE_SERVICE_ACCOUNT_FILE=).
        return None if value == "" else value

    def token_checks(self) -> ValidatorSettings:
        """What a token of this service must satisfy: its issuer, audience, time leeway."""
        return ValidatorSettings(
            AUTH_ISSUER=self.JWT_ISSUER,
            AUTH_AUDIENCE=self.JWT_AUDIENCE,
            AUTH_LEEWAY_SECONDS=self.JWT_LEEWAY_SECONDS,
        )

    def client_addresses(self) -> ClientAddresses:
        """How the rate limits find the client's address (TRUSTED_PROXIES, or the legacy
        TRUST_X_FORWARDED_FOR)."""
        return ClientAddresses(parse_networks(self.TRUSTED_PROXIES), self.TRUST_X_FORWARDED_FOR)

    @field_validator("TRUSTED_PROXIES")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)  # a typo stops the start, with the entry named
        return value

    @model_validator(mode="after")
    def _one_proxy_rule(self) -> "Settings":
        if self.TRUSTED_PROXIES.strip() and self.TRUST_X_FORWARDED_FOR:
            raise ValueError("set TRUSTED_PROXIES or TRUST_X_FORWARDED_FOR, not both")
        return self

    @property
    def cors_origins(self) -> list[str]:
        """CORS_ALLOW_ORIGINS as a list."""
        return [origin.strip() for origin in self.CORS_ALLOW_ORIGINS.split(",") if origin.strip()]

    @model_validator(mode="after")
    def _one_signing_key(self) -> "Settings":
        if self.JWT_PRIVATE_KEY_FILE is None and self.JWT_PRIVATE_KEY is None:
            raise ValueError("set JWT_PRIVATE_KEY_FILE (a PEM file) or JWT_PRIVATE_KEY (PEM)")
        return self

    @model_validator(mode="after")
    def _at_most_one_firebase_signer(self) -> "Settings":
        given = [
            name
            for name in (
                "FIREBASE_SERVICE_ACCOUNT_FILE",
                "FIREBASE_SERVICE_ACCOUNT_JSON",
                "FIREBASE_SERVICE_ACCOUNT_ID",
            )
            if getattr(self, name)
        ]
        if len(given) > 1:
            raise ValueError(f"set one of {', '.join(given)}, not several")
        if self.ENVIRONMENT == "prod" and given and given[0] != "FIREBASE_SERVICE_ACCOUNT_ID":
            # A long-lived private key in the internet-facing service is what N6 removes.
            raise ValueError(
                f"{given[0]} is a service-account key, refused with ENVIRONMENT=prod: set "
                "FIREBASE_SERVICE_ACCOUNT_ID and sign through IAM with Workload Identity"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
