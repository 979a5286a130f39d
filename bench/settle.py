"""A settled Cassandra: no compaction running. A compaction during one side of a ratio
halved it in one run, so the two sides are each measured from a settled Cassandra, and
whether a compaction ran meanwhile is reported. Cassandra's own list of running
compactions and other SSTable tasks is `system_views.sstable_tasks` (what `nodetool
compactionstats` lists), read through the driver."""

import asyncio
import time

from cassandra.cluster import Session

_TASKS = "SELECT keyspace_name, table_name, kind FROM system_views.sstable_tasks"
# Empty this many reads in a row, a second apart: a compaction often starts right after
# the flush that ends the previous one.
SETTLED_READS = 3
POLL_SECONDS = 1.0


def running_tasks(session: Session) -> list[str]:
    """The SSTable tasks (compactions, cleanups…) running now: `kind keyspace.table`."""
    return [
        f"{row['kind']} {row['keyspace_name']}.{row['table_name']}"
        for row in session.execute(_TASKS)
    ]


async def until_settled(session: Session, timeout: float) -> tuple[float, list[str]]:
    """Wait for SETTLED_READS empty reads in a row: (seconds waited, the tasks still running
    when `timeout` passed, empty once settled)."""
    started = time.monotonic()
    empty = 0
    while True:
        tasks = await asyncio.to_thread(running_tasks, session)
        empty = 0 if tasks else empty + 1
        waited = time.monotonic() - started
        if empty >= SETTLED_READS:
            return waited, []
        if waited > timeout:
            return waited, tasks
        await asyncio.sleep(POLL_SECONDS)  # Cassandra announces no end of compaction


class CompactionWatch:
    """Reads the running tasks once a second while a load runs: how many reads saw one."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.reads = 0
        self.busy = 0
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        while True:
            tasks = await asyncio.to_thread(running_tasks, self.session)
            self.reads += 1
            self.busy += bool(tasks)
            await asyncio.sleep(POLL_SECONDS)  # sampling, as above

    def __enter__(self) -> "CompactionWatch":
        self._task = asyncio.get_running_loop().create_task(self._watch())
        return self

    def __exit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()
