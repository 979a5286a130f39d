"""Who may do what: every component's rights on Kafka, Cassandra and Postgres, and the
network flows it needs, in one place (DESIGN.md, "Least privilege").

The prod KafkaUsers, the NetworkPolicies of both overlays (checked by nca) and the table in
docs/deploy.md are compared with this by tests/deploy; `make up` gives the local servers
the same rights. Names (topics, groups, keyspace, database) are the values of the
components' settings (k8s/base/config/*.env), which tests/deploy checks too.
"""

from dataclasses import dataclass, field
from enum import StrEnum


class Peer(StrEnum):
    """What a component may open a connection to, in any deployment."""

    POSTGRES = "postgres"
    KAFKA = "kafka"
    CASSANDRA = "cassandra"
    # The emulator in dev; Google's Firestore API (over Private Google Access) in prod.
    FIRESTORE = "firestore"
    # Google's other APIs (IAM signBlob for Firebase custom tokens) and, in prod, the GKE
    # metadata server for Workload Identity's tokens. Nothing in dev.
    GOOGLE_APIS = "google-apis"
    AUTH_SERVICE = "auth-service"


@dataclass(frozen=True)
class KafkaRights:
    """A SCRAM user's ACLs: Read and Write per topic, Read per consumer group."""

    read: frozenset[str] = frozenset()
    write: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    # Create and Describe topics (topic setup only); never given to a service.
    create_topics: bool = False
    # Every operation on every topic and group, and creating topics: the local test and
    # bench clients, which make throwaway topics and stand in for any component.
    everything: bool = False

    def acls(self) -> set[tuple[str, str, str]]:
        """(resource type, name, operation), as Strimzi's KafkaUser and kafka-acls say them."""
        out = {("topic", name, "Read") for name in self.read}
        out |= {("topic", name, "Write") for name in self.write}
        out |= {("group", name, "Read") for name in self.groups}
        if self.create_topics or self.everything:
            out |= {("cluster", "kafka-cluster", "Create"), ("topic", "*", "Describe")}
        if self.everything:
            out |= {("topic", "*", "All"), ("group", "*", "All")}
        return out


@dataclass(frozen=True)
class CassandraRights:
    """A Cassandra role: read and modify the keyspace's tables, or own the keyspace."""

    keyspace: str
    # SELECT and MODIFY on every table of the keyspace (the services share one schema).
    read_write: bool = False
    # CREATE/ALTER/DROP in the keyspace: the migrations only.
    owner: bool = False
    # Every keyspace (the local test and bench clients, which make keyspaces of their own).
    everything: bool = False


@dataclass(frozen=True)
class PostgresRights:
    """A Postgres login role (never a superuser) on one database."""

    role: str
    database: str
    # Owns the schema (DDL): the migrations. The service only reads and writes rows.
    owner: bool = False


@dataclass(frozen=True)
class Component:
    name: str
    # The Kubernetes workload that runs it ("" where it does not run in a cluster).
    workload: str = ""
    kafka: KafkaRights | None = None
    cassandra: CassandraRights | None = None
    postgres: PostgresRights | None = None
    # Other components' HTTP APIs it calls.
    calls: frozenset[Peer] = frozenset()
    firestore: bool = False
    google_apis: bool = False
    # Its /metrics port, scraped by Prometheus (0: none).
    metrics_port: int = 0
    # Ports the ingress controller forwards clients to.
    serves: frozenset[int] = field(default_factory=frozenset)

    def peers(self) -> set[Peer]:
        """Every peer this component opens connections to (besides cluster DNS)."""
        out = set(self.calls)
        out |= {p for p, used in self._stores() if used}
        return out

    def _stores(self) -> list[tuple[Peer, bool]]:
        return [
            (Peer.POSTGRES, self.postgres is not None),
            (Peer.KAFKA, self.kafka is not None),
            (Peer.CASSANDRA, self.cassandra is not None),
            (Peer.FIRESTORE, self.firestore),
            (Peer.GOOGLE_APIS, self.google_apis),
        ]


def _set(*names: str) -> frozenset[str]:
    return frozenset(names)


CHAT_MESSAGES, CHAT_DLQ = "chat-messages", "chat-messages-dlq"
USER_EVENTS, USER_DLQ = "user-events", "user-events-dlq"
MODERATION = "moderation"
KEYSPACE, DATABASE = "chat", "chat"

COMPONENTS = {
    c.name: c
    for c in (
        Component(
            "auth-service",
            workload="auth-service",
            # The user-event outbox relay publishes user.* events.
            kafka=KafkaRights(write=_set(USER_EVENTS)),
            postgres=PostgresRights("auth_service", DATABASE),
            # Firebase custom tokens signed by IAM's signBlob (no key file in prod), and the
            # Firebase Auth calls that end a user's sessions.
            google_apis=True,
            # Each user's session-revocation document (firestore.rules reads it).
            firestore=True,
            metrics_port=9101,
            serves=frozenset({8001}),
        ),
        Component(
            "auth-migrations",
            workload="auth-service-migrate",
            postgres=PostgresRights("auth_migrations", DATABASE, owner=True),
        ),
        Component(
            "chat-api",
            workload="chat-api",
            # Fast-path publish of the outbox; every replica tails user-events (no group).
            # Reports of messages go to the moderators' topic.
            kafka=KafkaRights(read=_set(USER_EVENTS), write=_set(CHAT_MESSAGES, MODERATION)),
            cassandra=CassandraRights(KEYSPACE, read_write=True),
            # JWKS and user look-ups.
            calls=frozenset({Peer.AUTH_SERVICE}),
            # The SSE relay listens to the aggregator's batches.
            firestore=True,
            metrics_port=9102,
            serves=frozenset({8002}),
        ),
        Component(
            "chat-worker",
            workload="chat-worker",
            # Inbox projection (chat-inbox), erasure (chat-service-erase), the outbox
            # sweeper and erasures' events, dead letters of both topics.
            kafka=KafkaRights(
                read=_set(CHAT_MESSAGES, USER_EVENTS),
                write=_set(CHAT_MESSAGES, CHAT_DLQ, USER_DLQ),
                groups=_set("chat-inbox", "chat-service-erase"),
            ),
            cassandra=CassandraRights(KEYSPACE, read_write=True),
            # Inbox and receipt documents; erasure blanks batches.
            firestore=True,
            metrics_port=9102,
        ),
        Component(
            "chat-migrations",
            workload="chat-migrate",
            cassandra=CassandraRights(KEYSPACE, owner=True),
        ),
        Component(
            "aggregator",
            workload="aggregator",
            kafka=KafkaRights(
                read=_set(CHAT_MESSAGES), write=_set(CHAT_DLQ), groups=_set("aggregator")
            ),
            firestore=True,
            metrics_port=8003,
        ),
        # `make up` and the dev overlay's kafka-topics Job; Strimzi's Topic Operator in prod.
        Component(
            "topic-setup",
            workload="kafka-topics",
            kafka=KafkaRights(create_topics=True),
        ),
        # Local only (`make test`, `make bench`): clients that are not components. They run
        # as their own users, so a service's own rights are never widened for them.
        Component(
            "tests",
            kafka=KafkaRights(everything=True),
            cassandra=CassandraRights("*", everything=True),
        ),
        Component(
            "bench",
            kafka=KafkaRights(everything=True),
            cassandra=CassandraRights("*", everything=True),
        ),
        # The stores' own tools on the local stack (`make cqlsh`, `make kafka-topics`, ...):
        # a person operating it, who may look at and change anything.
        Component(
            "operator",
            kafka=KafkaRights(everything=True),
            cassandra=CassandraRights("*", everything=True),
        ),
    )
}

# The services that run in production (Deployments), as opposed to one-shot setup.
SERVICES = ("auth-service", "chat-api", "chat-worker", "aggregator")
