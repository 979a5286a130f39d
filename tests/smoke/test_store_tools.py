"""The stores' own tools (`make cqlsh`, `make psql`, `make kafka-topics`,
`make kafka-console-consumer`) reach the running stack and do what an operator asks."""

import asyncio
import os
import subprocess
import uuid
from pathlib import Path

from aiokafka import AIOKafkaProducer

from chat_common.store_access import KafkaAccessSettings, kafka_client_kwargs

ROOT = Path(__file__).resolve().parents[2]
BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
TOOL_TIMEOUT_S = 120


def make(target: str, *variables: str) -> str:
    """`make -s TARGET VAR=...` at the repository root; its stdout (fails on non-zero)."""
    done = subprocess.run(
        ["make", "-s", target, *variables],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TOOL_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, f"make {target} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_kafka_topics_lists_the_topics_make_up_created() -> None:
    listed = make("kafka-topics", "ARGS=--list").split()
    for topic in ("chat-messages", "chat-messages-dlq", "user-events", "user-events-dlq"):
        assert topic in listed


def test_console_consumer_prints_what_was_produced() -> None:
    topic = f"tools-{uuid.uuid4().hex[:8]}"
    make("kafka-topics", f"ARGS=--create --topic {topic} --partitions 1 --replication-factor 1")
    try:
        assert topic in make("kafka-topics", f"ARGS=--describe --topic {topic}")
        value = f"hello {uuid.uuid4()}"

        async def produce() -> None:
            producer = AIOKafkaProducer(
                bootstrap_servers=BOOTSTRAP,
                acks="all",
                **kafka_client_kwargs(KafkaAccessSettings()),  # as `tests` (run-tests.sh)
            )
            await producer.start()
            try:
                await producer.send_and_wait(topic, value.encode())
            finally:
                await producer.stop()

        asyncio.run(produce())
        args = "ARGS=--from-beginning --max-messages 1 --timeout-ms 30000"
        assert make("kafka-console-consumer", f"TOPIC={topic}", args).splitlines() == [value]
    finally:
        make("kafka-topics", f"ARGS=--delete --topic {topic}")


def test_psql_queries_the_auth_database() -> None:
    # Exactly one Alembic revision is current once make up has migrated.
    assert make("psql", "ARGS=-tAc 'select count(*) from alembic_version'").strip() == "1"


def test_cqlsh_opens_the_chat_keyspace() -> None:
    tables = make("cqlsh", "ARGS=-e 'describe tables'").split()
    assert "message" in tables
