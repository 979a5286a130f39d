"""What the servers need before the services use them: rights, topics and the keyspace."""

from typing import Any

TOPICS = {
    "chat-messages": 6,
    "chat-messages-dlq": 1,
    "user-events": 3,
    "user-events-dlq": 1,
    "moderation": 3,
}


async def kafka_rights_and_topics() -> None:
    """The ACLs of infra/rights/source.py (as the super user), then the topics, created as
    the topic-setup user, which may do nothing else."""
    import asyncio

    from infra.rights.local import aiokafka_kwargs, apply_kafka_rights

    await asyncio.to_thread(apply_kafka_rights, 9092)
    await kafka_topics(aiokafka_kwargs("topic-setup"))


async def kafka_topics(access: dict[str, Any]) -> None:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(
        bootstrap_servers="127.0.0.1:9092", request_timeout_ms=10000, **access
    )
    await admin.start()
    try:
        missing = set(TOPICS) - set(await admin.list_topics())
        if missing:
            await admin.create_topics(
                [NewTopic(name, TOPICS[name], replication_factor=1) for name in sorted(missing)]
            )
    finally:
        await admin.close()


async def cassandra_rights_and_keyspace() -> None:
    """The roles of infra/rights/source.py, then the chat service's keyspace and tables,
    made by its own migration (defined once) as its migrations role, then the grants on
    the keyspace that now exists."""
    import asyncio

    from chat_service.config import Settings
    from chat_service.store.migrate import migrate
    from infra.rights.local import apply_cassandra_rights, credentials_env

    await asyncio.to_thread(apply_cassandra_rights, 9042)
    role = credentials_env("chat-migrations")
    await migrate(
        Settings(
            CASSANDRA_HOSTS="127.0.0.1",
            CASSANDRA_PORT=9042,
            CASSANDRA_USERNAME=role["CASSANDRA_USERNAME"],
            CASSANDRA_PASSWORD=role["CASSANDRA_PASSWORD"],  # type: ignore[arg-type]
        )
    )
    await asyncio.to_thread(apply_cassandra_rights, 9042)
