"""The consumers the loops and listeners use, built with one set of settings everywhere."""

from typing import Literal

from aiokafka import AIOKafkaConsumer

from chat_common.store_access import KafkaAccessSettings, kafka_client_kwargs


def group_consumer(
    bootstrap_servers: str,
    group_id: str,
    access: KafkaAccessSettings,
    *,
    offset_reset: Literal["earliest", "latest"],
    session_timeout_ms: int = 10_000,
) -> AIOKafkaConsumer:
    """A member of `group_id` that commits only by hand; where a new group starts is
    `offset_reset`; `session_timeout_ms` is how soon the group notices a crashed member."""
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset=offset_reset,
        # Room for a final flush in the revoke listener before the group gives up on us.
        rebalance_timeout_ms=30_000,
        session_timeout_ms=session_timeout_ms,
        heartbeat_interval_ms=min(3000, session_timeout_ms // 3),
        **kafka_client_kwargs(access),
    )


def tail_consumer(
    bootstrap_servers: str,
    access: KafkaAccessSettings,
    *,
    offset_reset: Literal["earliest", "latest"] = "earliest",
) -> AIOKafkaConsumer:
    """A reader in no group (it takes every partition, commits nothing), starting at the
    beginning or the end: a listener each replica runs for itself (`tail.Tail`)."""
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset=offset_reset,
        **kafka_client_kwargs(access),
    )
