"""The local Kafka enforces infra/rights/source.py as production does: no client gets in
without a SCRAM user and its password, and each component's user is refused every topic
and group the source does not grant it. (That each is allowed what it is granted, every
suite shows by running the services as their own users.)"""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    KafkaError,
    TopicAuthorizationFailedError,
)

from infra.rights.local import aiokafka_kwargs
from infra.rights.source import COMPONENTS

BOOTSTRAP = "127.0.0.1:9092"
# The components whose rights are narrow (not the test and bench clients).
NARROW = sorted(
    name for name, c in COMPONENTS.items() if c.kafka and not c.kafka.everything and c.workload
)
TOPICS = sorted(
    {t for c in COMPONENTS.values() if c.kafka for t in c.kafka.read | c.kafka.write} - {"*"}
)
GROUPS = sorted({g for c in COMPONENTS.values() if c.kafka for g in c.kafka.groups} - {"*"})


async def _refused(access: dict[str, Any]) -> BaseException:
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP, request_timeout_ms=5000, **access)
    try:
        await asyncio.wait_for(admin.start(), timeout=30)
        await asyncio.wait_for(admin.list_topics(), timeout=30)
    except (KafkaError, TimeoutError) as error:
        return error
    finally:
        await admin.close()
    raise AssertionError(f"the broker let in a client with {sorted(access)}")


async def test_a_client_without_credentials_is_refused() -> None:
    # Checked against a real user first, so a broker that is down cannot pass.
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP, **aiokafka_kwargs("tests"))
    await admin.start()
    assert "chat-messages" in await admin.list_topics()
    await admin.close()
    await _refused({})


async def test_a_wrong_password_is_refused() -> None:
    access = {**aiokafka_kwargs("chat-api"), "sasl_plain_password": "not-the-password"}
    error = await _refused(access)
    assert isinstance(error, KafkaConnectionError | KafkaError), error


@pytest.fixture(params=NARROW)
async def component(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    yield request.param


async def test_each_component_is_refused_every_topic_it_may_not_write(component: str) -> None:
    rights = COMPONENTS[component].kafka
    assert rights is not None
    producer = AIOKafkaProducer(
        bootstrap_servers=BOOTSTRAP, request_timeout_ms=10000, **aiokafka_kwargs(component)
    )
    await producer.start()
    try:
        for topic in sorted(set(TOPICS) - rights.write):
            with pytest.raises(TopicAuthorizationFailedError):
                await asyncio.wait_for(producer.send_and_wait(topic, b"{}"), timeout=30)
    finally:
        await producer.stop()


async def test_each_component_is_refused_every_topic_it_may_not_read(component: str) -> None:
    rights = COMPONENTS[component].kafka
    assert rights is not None
    access = aiokafka_kwargs(component)
    unreadable = sorted(set(TOPICS) - rights.read)
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP, **access)
    await admin.start()
    try:
        described = await admin.describe_topics(unreadable) if unreadable else []
    finally:
        await admin.close()
    # A topic it may not even describe is refused there; one it may (Write and topic
    # setup's Describe let it see the topic) is refused at the fetch itself.
    visible = [d["topic"] for d in described if d["error_code"] == 0]
    refused = [d for d in described if d["topic"] not in visible]
    assert all(d["error_code"] == TopicAuthorizationFailedError.errno for d in refused)
    for topic in visible:
        consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, group_id=None, **access)
        await consumer.start()
        try:
            consumer.assign([TopicPartition(topic, 0)])
            await consumer.seek_to_beginning()
            with pytest.raises(TopicAuthorizationFailedError):
                await asyncio.wait_for(consumer.getone(), timeout=30)
        finally:
            await consumer.stop()


async def test_each_component_is_refused_every_group_it_may_not_join(component: str) -> None:
    rights = COMPONENTS[component].kafka
    assert rights is not None
    # A topic it may read (or any, where it may read none: refused either way).
    topic = min(rights.read) if rights.read else TOPICS[0]
    for group in sorted(set(GROUPS) - rights.groups):
        consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=BOOTSTRAP, group_id=group, **aiokafka_kwargs(component)
        )
        try:
            with pytest.raises((GroupAuthorizationFailedError, TopicAuthorizationFailedError)):
                await asyncio.wait_for(consumer.start(), timeout=30)
                await asyncio.wait_for(consumer.getmany(timeout_ms=5000), timeout=30)
        finally:
            await consumer.stop()


def test_the_issues_two_cases_are_among_those_checked() -> None:
    # auth-service may write user-events (nothing else); chat-worker may join chat-inbox.
    assert COMPONENTS["auth-service"].kafka
    assert COMPONENTS["auth-service"].kafka.write == {"user-events"}
    worker = COMPONENTS["chat-worker"].kafka
    assert worker and "chat-inbox" in worker.groups and "chat-messages" in worker.read
    assert "chat-inbox" in GROUPS and {"auth-service", "chat-api", "aggregator"} <= set(NARROW)
