"""What the servers need before the services use them: topics and the keyspace."""

import asyncio

TOPICS = {"chat-messages": 6, "chat-messages-dlq": 1}


async def kafka_topics() -> None:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers="127.0.0.1:9092", request_timeout_ms=10000)
    await admin.start()
    try:
        missing = set(TOPICS) - set(await admin.list_topics())
        if missing:
            await admin.create_topics(
                [NewTopic(name, TOPICS[name], replication_factor=1) for name in sorted(missing)]
            )
    finally:
        await admin.close()


def _create_keyspace() -> None:
    from cassandra.cluster import Cluster

    cluster = Cluster(["127.0.0.1"], port=9042)
    try:
        session = cluster.connect()
        session.execute(
            "CREATE KEYSPACE IF NOT EXISTS chat WITH replication ="
            " {'class': 'SimpleStrategy', 'replication_factor': 1}",
            timeout=30,
        )
    finally:
        cluster.shutdown()


async def cassandra_keyspace() -> None:
    await asyncio.to_thread(_create_keyspace)
