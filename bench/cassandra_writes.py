"""Cassandra's own count of the writes it coordinated, per table
(`system_views.coordinator_write_latency`): a send's store work as a number that no noise
on the machine moves, beside its CPU seconds, which it does. A batch counts once per
partition it writes, so this is partition writes, whatever the number of requests."""

import asyncio
from collections import Counter

from bench.rows import connect
from chat_service.config import Settings


def _counts(settings: Settings, keyspaces: frozenset[str]) -> Counter[str]:
    cluster, session = connect(settings)
    try:
        rows = session.execute(
            "SELECT keyspace_name, table_name, count FROM system_views.coordinator_write_latency"
        )
        return Counter(
            {
                f"{row['keyspace_name']}.{row['table_name']}": row["count"]
                for row in rows
                if row["keyspace_name"] in keyspaces
            }
        )
    finally:
        cluster.shutdown()


class WriteMeter:
    """Writes per table between `start()` and `stop()`, in the given keyspaces."""

    def __init__(self, settings: Settings, keyspaces: set[str]) -> None:
        self.settings = settings
        self.keyspaces = frozenset(keyspaces)
        self.before: Counter[str] = Counter()

    async def start(self) -> None:
        self.before = await asyncio.to_thread(_counts, self.settings, self.keyspaces)

    async def stop(self) -> Counter[str]:
        after = await asyncio.to_thread(_counts, self.settings, self.keyspaces)
        return after - self.before
