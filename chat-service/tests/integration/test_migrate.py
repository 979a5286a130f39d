"""The migration command is idempotent against the real Cassandra."""

from cassandra.cluster import Cluster

from chat_common.store_access import cassandra_cluster_kwargs
from chat_service.config import Settings
from chat_service.store.migrate import migrate


async def test_migration_runs_twice_and_creates_every_table(
    cassandra_keyspace: str, settings: Settings
) -> None:
    await migrate(settings, cassandra_keyspace, timeout=60)
    cluster = Cluster(
        settings.cassandra_contact_points,
        port=settings.CASSANDRA_PORT,
        **cassandra_cluster_kwargs(settings),
    )
    try:
        cluster.connect()
        tables = set(cluster.metadata.keyspaces[cassandra_keyspace].tables)
    finally:
        cluster.shutdown()
    assert {
        "chat",
        "chat_by_user",
        "message",
        "message_bucket",
        "client_message",
        "message_outbox",
        "outbox_ack",
        "outbox_watermark",
    } <= tables
    # The outbox of earlier versions, with its tombstones, is gone.
    assert "outbox" not in tables
