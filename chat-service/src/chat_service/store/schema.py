"""The Cassandra schema of the chat service, applied idempotently by `migrate`."""

import re

KEYSPACE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")

# Outbox rows are spread over a fixed number of partitions so that no single outbox
# partition is hot. Changing it would strand rows in the old shards: it is not a setting.
OUTBOX_SHARDS = 16
# One outbox partition per shard and slot: small enough to read in a few pages, large
# enough that catching up after a long Kafka outage takes few empty-slot reads.
OUTBOX_SLOT_SECONDS = 300
# Rows expire after a week: the longest Kafka outage the realtime path rides out.
OUTBOX_RETENTION_SECONDS = 7 * 24 * 3600

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
    # No text: a claim outlives a delete of its message (see DROPPED_COLUMNS).
    """
    CREATE TABLE IF NOT EXISTS client_message (
        chat_id uuid,
        sender_id uuid,
        client_message_id text,
        message_id timeuuid,
        bucket bigint,
        PRIMARY KEY ((chat_id, sender_id, client_message_id))
    )
    """,
    # Transactional outbox, append-only: a send writes its row first (it carries the
    # whole message), the relay reads it forward from a persisted watermark. Partitions are
    # (shard, slot of OUTBOX_SLOT_SECONDS), so a read never walks old data, rows are never
    # deleted one by one, and whole SSTables expire together (TWCS + TTL): no tombstones
    # to read past. Rows are ordered by `entry_id`, a time UUID made just before the write
    # (not the message id, which a retried send may reuse long after it was made), so a
    # row lands within one request timeout of its key's time.
    f"""
    CREATE TABLE IF NOT EXISTS message_outbox (
        shard int,
        slot bigint,
        entry_id timeuuid,
        message_id timeuuid,
        chat_id uuid,
        sender_id uuid,
        recipient_id uuid,
        chat_created_at timestamp,
        bucket bigint,
        text text,
        PRIMARY KEY ((shard, slot), entry_id)
    ) WITH CLUSTERING ORDER BY (entry_id ASC)
      AND default_time_to_live = {OUTBOX_RETENTION_SECONDS}
      AND gc_grace_seconds = 3600
      AND compaction = {{'class': 'TimeWindowCompactionStrategy',
                        'compaction_window_unit': 'HOURS', 'compaction_window_size': 1}}
    """,
    # Entries the relay's fast path announced, one partition per slot for all shards,
    # written once per published batch: the sweep skips them, whichever instance sent them.
    f"""
    CREATE TABLE IF NOT EXISTS outbox_ack (
        slot bigint,
        entry_id timeuuid,
        PRIMARY KEY ((slot), entry_id)
    ) WITH default_time_to_live = {OUTBOX_RETENTION_SECONDS}
      AND gc_grace_seconds = 3600
      AND compaction = {{'class': 'TimeWindowCompactionStrategy',
                        'compaction_window_unit': 'HOURS', 'compaction_window_size': 1}}
    """,
    # Blocks (DESIGN.md "Safety"): one partition per blocker, so a send's check is one row
    # read and `GET /blocks` one partition.
    """
    CREATE TABLE IF NOT EXISTS user_block (
        blocker_id uuid,
        blocked_id uuid,
        blocked_at timestamp,
        PRIMARY KEY ((blocker_id), blocked_id)
    )
    """,
    # Per outbox shard: every row whose entry time is at or before `swept_to` was announced.
    """
    CREATE TABLE IF NOT EXISTS outbox_watermark (
        shard int PRIMARY KEY,
        swept_to timestamp
    )
    """,
    # Per chat: the inbox consumer's running counts (written USING TIMESTAMP offset + 1)
    # and the read marks POST /read records (USING TIMESTAMP the mark's time): see
    # chat_service/store/counts.py. `_low` / `_high`: the lower / higher member id.
    """
    CREATE TABLE IF NOT EXISTS chat_counts (
        chat_id uuid PRIMARY KEY,
        applied_offset bigint,
        member_low uuid,
        member_high uuid,
        last_message_id timeuuid,
        last_sender_id uuid,
        last_text text,
        sent_low bigint,
        sent_high bigint,
        newest_low timeuuid,
        newest_high timeuuid,
        counted_mark_low timeuuid,
        counted_mark_high timeuuid,
        read_count_low bigint,
        read_count_high bigint,
        read_at_low timestamp,
        read_at_high timestamp,
        read_mark_low timeuuid,
        read_mark_high timeuuid
    )
    """,
    # Every message the inbox consumer counted, and at which Kafka offset: a replayed or
    # re-announced message is not counted twice, and a moved read mark counts the rows it
    # newly covers (a range of one partition).
    """
    CREATE TABLE IF NOT EXISTS counted_message (
        chat_id uuid,
        sender_id uuid,
        message_id timeuuid,
        counted_at_offset bigint,
        PRIMARY KEY ((chat_id, sender_id), message_id)
    )
    """,
)


# Tables of earlier versions, dropped by the migration once their successor exists.
# `outbox` (one partition per shard, a delete per message) walked ever more tombstones.
DROPPED_TABLES: tuple[str, ...] = ("outbox",)

# Columns added to existing tables (table, column, type); `migrate` adds each one missing.
# `message`: an edit stamps `edited_at`, a delete `deleted_at` and nulls `text`.
# `message_outbox`: `kind` (null: a created message; "edited", "deleted") and the time of
# the change, so edits and deletes reach Kafka through the same outbox as sends.
ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("message", "edited_at", "timestamp"),
    ("message", "deleted_at", "timestamp"),
    ("message_outbox", "kind", "text"),
    ("message_outbox", "changed_at", "timestamp"),
)


# Columns of earlier versions (table, column), dropped by `migrate` where they exist.
# `client_message.text`: a claim kept a copy of every text sent with a client_message_id,
# untouched by deletes and erasure (issue 25); a retry now writes the text it carries.
DROPPED_COLUMNS: tuple[tuple[str, str], ...] = (("client_message", "text"),)


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


def create_keyspace_cql(keyspace: str, replication_factor: int, datacenter: str = "") -> str:
    """CREATE KEYSPACE for a validated name: DDL cannot take identifiers as bind values.

    With a datacenter, NetworkTopologyStrategy (replicas spread over racks, as production
    wants); without, SimpleStrategy (one local node)."""
    valid_keyspace(keyspace)
    if replication_factor < 1:
        raise ValueError("replication factor must be at least 1")
    if datacenter:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", datacenter):
            raise ValueError(f"not a datacenter name: {datacenter!r}")
        strategy = f"'class': 'NetworkTopologyStrategy', '{datacenter}': {int(replication_factor)}"
    else:
        strategy = f"'class': 'SimpleStrategy', 'replication_factor': {int(replication_factor)}"
    return f"CREATE KEYSPACE IF NOT EXISTS {keyspace} WITH replication = {{{strategy}}}"
