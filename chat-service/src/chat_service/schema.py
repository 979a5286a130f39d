"""The Cassandra schema of the chat service, applied idempotently by `migrate`."""

import re

KEYSPACE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")

# Tables live in the session's keyspace (set with USE), so no statement names it.
TABLES: tuple[str, ...] = (
    # One row per chat, created with IF NOT EXISTS on the id derived from the pair.
    """
    CREATE TABLE IF NOT EXISTS chat (
        chat_id uuid PRIMARY KEY,
        member_low uuid,
        member_high uuid,
        created_at timestamp
    )
    """,
    # GET /chats: one partition per user. The activity order is applied when reading:
    # a clustering key on last_message_at would need a delete + insert per message.
    """
    CREATE TABLE IF NOT EXISTS chat_by_user (
        user_id uuid,
        chat_id uuid,
        other_user_id uuid,
        created_at timestamp,
        last_message_at timestamp,
        PRIMARY KEY ((user_id), chat_id)
    )
    """,
    # History: one partition per chat and time bucket keeps partitions bounded.
    """
    CREATE TABLE IF NOT EXISTS message (
        chat_id uuid,
        bucket bigint,
        message_id timeuuid,
        sender_id uuid,
        text text,
        PRIMARY KEY ((chat_id, bucket), message_id)
    ) WITH CLUSTERING ORDER BY (message_id DESC)
    """,
    # The chat's non-empty buckets, newest first: a page jumps straight to the next
    # bucket holding messages, so its cost does not depend on gaps or depth.
    """
    CREATE TABLE IF NOT EXISTS message_bucket (
        chat_id uuid,
        bucket bigint,
        PRIMARY KEY ((chat_id), bucket)
    ) WITH CLUSTERING ORDER BY (bucket DESC)
    """,
    # Idempotent send: the first request with a client_message_id claims it (IF NOT EXISTS).
    """
    CREATE TABLE IF NOT EXISTS client_message (
        chat_id uuid,
        sender_id uuid,
        client_message_id text,
        message_id timeuuid,
        bucket bigint,
        text text,
        PRIMARY KEY ((chat_id, sender_id, client_message_id))
    )
    """,
    # Transactional outbox, written in the message's logged batch, drained by the relay.
    # Rows are short-lived and deleted, so tombstones are collected after an hour instead
    # of ten days; the relay reads above a time watermark so it never walks over them.
    """
    CREATE TABLE IF NOT EXISTS outbox (
        shard int,
        message_id timeuuid,
        chat_id uuid,
        sender_id uuid,
        text text,
        PRIMARY KEY ((shard), message_id)
    ) WITH CLUSTERING ORDER BY (message_id ASC) AND gc_grace_seconds = 3600
    """,
)


def valid_keyspace(keyspace: str) -> str:
    """The name itself if it is a plain lower-case CQL identifier, else ValueError."""
    if not KEYSPACE_NAME.match(keyspace):
        raise ValueError(f"invalid keyspace name {keyspace!r}")
    return keyspace


def qualify(cql: str, keyspace: str) -> str:
    """Put a validated keyspace name where a statement says `{keyspace}`.

    The only text ever spliced into CQL is this identifier, checked against a strict
    pattern first; every value is a bind marker.
    """
    return cql.replace("{keyspace}", valid_keyspace(keyspace))


def create_keyspace_cql(keyspace: str, replication_factor: int) -> str:
    """CREATE KEYSPACE for a validated name: DDL cannot take identifiers as bind values."""
    valid_keyspace(keyspace)
    if replication_factor < 1:
        raise ValueError("replication factor must be at least 1")
    return (
        f"CREATE KEYSPACE IF NOT EXISTS {keyspace} WITH replication = "
        f"{{'class': 'SimpleStrategy', 'replication_factor': {int(replication_factor)}}}"
    )
