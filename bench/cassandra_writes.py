"""Cassandra's own count of the writes it coordinated, per table
(`system_views.coordinator_write_latency`): a send's store work as a number that no noise
on the machine moves, beside its CPU seconds, which it does. A batch counts once per
partition it writes, so this is partition writes, whatever the number of requests."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from cassandra.cluster import Session

from bench.rows import connect
from chat_service.config import Settings

_COUNTS = "SELECT keyspace_name, table_name, count FROM system_views.coordinator_write_latency"


class WriteMeter:
    """Writes per table between `start()` and `stop()`, in the given keyspaces."""

    def __init__(self, session: Session, keyspaces: frozenset[str]) -> None:
        self.session = session
        self.keyspaces = keyspaces
        self.before: Counter[str] = Counter()

    def _counts(self) -> Counter[str]:
        return Counter(
            {
                f"{row['keyspace_name']}.{row['table_name']}": row["count"]
                for row in self.session.execute(_COUNTS)
                if row["keyspace_name"] in self.keyspaces
            }
        )

    async def start(self) -> None:
        self.before = await asyncio.to_thread(self._counts)

    async def stop(self) -> Counter[str]:
        return await asyncio.to_thread(self._counts) - self.before


@asynccontextmanager
async def write_meter(settings: Settings, keyspaces: set[str]) -> AsyncIterator[WriteMeter]:
    """A meter on one connection, kept for the whole part."""
    cluster, session = await asyncio.to_thread(connect, settings)
    try:
        yield WriteMeter(session, frozenset(keyspaces))
    finally:
        await asyncio.to_thread(cluster.shutdown)
