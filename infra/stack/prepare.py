"""What the servers need before the services use them: topics and the keyspace."""

TOPICS = {
    "chat-messages": 6,
    "chat-messages-dlq": 1,
    "user-events": 3,
    "user-events-dlq": 1,
    "moderation": 3,
}


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


async def cassandra_keyspace() -> None:
    """The chat service's keyspace and tables, made by its own migration (defined once)."""
    from chat_service.config import Settings
    from chat_service.store.migrate import migrate

    await migrate(Settings(CASSANDRA_HOSTS="127.0.0.1", CASSANDRA_PORT=9042))
