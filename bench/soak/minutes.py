"""The soak minute by minute, as the service itself saw it: chat-api's resident memory,
its own request-duration histogram for sends, and the CPU every component used, read at the
start of the load and at the end of every minute.

The histogram (`http_request_duration_seconds`, POST /chat/{chat_id}/messages) times a send
inside the service; the bench's clock also holds the network stack and the load generator's
own event loop. Where the two part, the time went outside the service. The CPU columns
show who had the machine's cores in a slow minute.
"""

import asyncio
import math
import os
import time
from dataclasses import dataclass
from itertools import pairwise

import aiohttp

from bench import api, procs
from bench.options import Options
from bench.results import Headline, Results, fmt, table

SERVICE = "chat-api"
SEND_ROUTE = {"method": "POST", "route": "/chat/{chat_id}/messages"}
DURATION_BUCKETS = "http_request_duration_seconds_bucket"

# Whose CPU the table shows, in cores: the busy components, and this load generator.
CPU_OF = ("cassandra", SERVICE, "chat-worker", "firestore", "aggregator", "kafka")
LOAD_GENERATOR = "load generator"

Memory = dict[str, procs.Resident | None]
Buckets = dict[float, float]  # upper bound in seconds -> sends at or under it (cumulative)


@dataclass(frozen=True)
class Sample:
    at: float  # monotonic seconds
    memory: Memory
    buckets: Buckets
    cpu: dict[str, float]  # CPU seconds used so far, per process (pids as in `memory`)


def _cpu(options: Options) -> dict[str, float]:
    pids = {c: procs.pid_of(options.state, c) for c in CPU_OF}
    pids[LOAD_GENERATOR] = os.getpid()
    return {c: procs.cpu_seconds(pid) for c, pid in pids.items() if pid is not None}


async def sample(options: Options, chat: aiohttp.ClientSession) -> Sample:
    samples = await api.samples(chat, DURATION_BUCKETS, SEND_ROUTE)
    buckets = {float(labels["le"]): value for labels, value in samples}
    return Sample(time.monotonic(), procs.memory(options.state), buckets, _cpu(options))


def cores(before: Sample, after: Sample) -> list[float]:
    """Cores each of CPU_OF and the load generator used between two samples (NaN for one
    not running at both)."""
    wall = after.at - before.at
    return [
        (after.cpu[c] - before.cpu[c]) / wall if c in before.cpu and c in after.cpu else math.nan
        for c in (*CPU_OF, LOAD_GENERATOR)
    ]


async def each_minute(options: Options, chat: aiohttp.ClientSession, into: list[Sample]) -> None:
    """A sample at the end of each minute of the load, until cancelled."""
    while True:
        await asyncio.sleep(60.0)  # a sample per minute of the run: the clock is the event
        into.append(await sample(options, chat))


def served(before: Buckets, after: Buckets) -> tuple[float, float, float]:
    """Between two readings: (sends, share answered within 100 ms, the bound of the bucket
    holding the 99th percentile in ms: the p99 is at most that)."""
    bounds = sorted(after)
    done = [after[b] - before.get(b, 0.0) for b in bounds]
    total = done[-1] if done else 0.0
    if not total:
        return 0.0, float("nan"), float("nan")
    within = next((n for b, n in zip(bounds, done, strict=True) if b >= 0.1), total) / total
    p99 = next(b for b, n in zip(bounds, done, strict=True) if n >= 0.99 * total)
    return total, within * 100, p99 * 1000


# The last sample is taken as the load ends, a moment after the last minute's: a row for
# that moment would be a few sends and CPU shares over a second. It joins the last minute.
_SHORTEST_ROW_SECONDS = 30.0


def rows_of(samples: list[Sample]) -> list[Sample]:
    """The samples that bound the table's rows: the last minute runs to the end of the load."""
    if len(samples) >= 3 and samples[-1].at - samples[-2].at < _SHORTEST_ROW_SECONDS:
        return [*samples[:-2], samples[-1]]
    return samples


def report(results: Results, samples: list[Sample]) -> None:
    """The minute-by-minute section, and chat-api's growth after its first minute (a
    leak grows on; buffers and pools filling as the load starts do not)."""
    rows = []
    for n, (before, after) in enumerate(pairwise(rows_of(samples)), 1):
        sends, within, p99 = served(before.buckets, after.buckets)
        mib = after.memory.get(SERVICE)
        bound = "> 10 s" if p99 == float("inf") else f"≤ {fmt(p99)}"
        row = [str(n), fmt(sends), fmt(within), bound, fmt(mib.mib if mib else None)]
        rows.append(row + [fmt(c, 2) for c in cores(before, after)])
    results.section(
        "Soak: minute by minute, as chat-api saw it",
        "Sends chat-api answered in each minute of the load (by when they were answered), "
        "the share it answered within 100 ms and the histogram bucket holding its p99, both "
        "timed inside the service; its resident memory at the end of the minute; the CPU "
        "cores each busy component and the load generator used in the minute (of 2).\n\n"
        + table(
            ["minute", "sends", "within 100 ms %", "p99 ms", f"{SERVICE} MiB"]
            + [f"{c} cores" for c in (*CPU_OF, LOAD_GENERATOR)],
            rows,
        ),
    )
    seen = [s.memory.get(SERVICE) for s in samples]
    first = seen[0]
    process = [r for r in seen if r is not None and first is not None and r.pid == first.pid]
    if len(process) != len(seen) or len(seen) < 3:
        return  # not running throughout, or restarted: no growth to speak of
    after_first = procs.growth_pct(process[1], process[-1]) or 0.0
    from_start = procs.growth_pct(process[0], process[-1]) or 0.0
    results.figure("soak.memory.chat-api.growth_after_first_minute_pct", after_first)
    results.headline(
        Headline(
            "Soak: chat-api memory growth after its first minute",
            after_first,
            "%",
            "from the start",
            from_start,
            "< 10 %",
        )
    )
