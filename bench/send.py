"""Send throughput and latency at 1…100 concurrent senders, beside raw single-row inserts
into the same Cassandra, with Cassandra's CPU time per 1,000 writes of each."""

import asyncio
import math
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp

from bench import api, charts, procs, rows, store_writes
from bench.cassandra_writes import write_meter
from bench.collector import no_full_collections
from bench.options import Options
from bench.private_service import settings
from bench.progress import bars
from bench.results import Headline, Results, fmt, table
from bench.stats import percentile, ratio
from chat_service.config import Settings

# The running chat-worker's inbox projection counts every message sent, the bench's too.
INBOX_APPLIED = "chat_inbox_events_applied_total"
INBOX_CATCH_UP_SECONDS = 60.0


@dataclass
class Level:
    """One concurrency level: API and raw figures side by side."""

    senders: int
    api_rate: float = 0.0
    api_latencies: list[float] = field(default_factory=list)
    raw_rate: float = 0.0
    raw_latencies: list[float] = field(default_factory=list)
    store_rate: float = float("nan")  # the writes of a send through the repository
    api_cpu: float = float("nan")  # Cassandra CPU seconds per 1,000 writes
    raw_cpu: float = float("nan")
    # Partition writes Cassandra coordinated during each, per keyspace.table.
    api_writes: Counter[str] = field(default_factory=Counter)
    raw_writes: Counter[str] = field(default_factory=Counter)


class CpuMeter:
    """Cassandra's CPU seconds between two reads (NaN when its pid is unknown)."""

    def __init__(self, options: Options) -> None:
        self.pid = procs.pid_of(options.state, "cassandra")
        self.start = procs.cpu_seconds(self.pid) if self.pid else float("nan")

    def per_thousand(self, writes: int) -> float:
        if not self.pid or not writes:
            return float("nan")
        return (procs.cpu_seconds(self.pid) - self.start) * 1000 / writes


async def _api_level(
    chat: aiohttp.ClientSession, pairs: list[tuple[str, api.User]], total: int, level: Level
) -> None:
    per_sender = math.ceil(total / level.senders)
    with bars() as progress, no_full_collections():
        task = progress.add_task(f"send, {level.senders} senders", total=per_sender * level.senders)

        async def sender(chat_id: str, user: api.User) -> None:
            for n in range(per_sender):
                sent = await api.send(chat, chat_id, user, f"bench message {n}")
                if sent.status != 201:
                    raise RuntimeError(f"send answered {sent.status}")
                level.api_latencies.append(sent.seconds)
                progress.advance(task)

        started = time.perf_counter()
        await asyncio.gather(*(sender(c, u) for c, u in pairs[: level.senders]))
        level.api_rate = len(level.api_latencies) / (time.perf_counter() - started)


async def _raw_level(options: Options, level: Level) -> None:
    with bars() as progress, no_full_collections():
        task = progress.add_task(f"raw insert, {level.senders} writers", total=options.raw_rows)
        seconds, level.raw_latencies = await rows.raw_inserts(
            settings(options), options.raw_rows, level.senders, lambda n: progress.advance(task, n)
        )
    level.raw_rate = options.raw_rows / seconds


async def _store_level(options: Options, level: Level) -> None:
    with bars() as progress:
        sends = options.sends_per_level  # as many as the API sent
        task = progress.add_task(f"store writes, {level.senders} writers", total=sends)
        seconds = await store_writes.store_sends(
            settings(options), sends, level.senders, lambda n: progress.advance(task, n)
        )
    level.store_rate = sends / seconds


async def run(options: Options, results: Results, url: str) -> None:
    most = max(options.concurrency)
    # The bench service's keyspace, and the running service's (its inbox projection's).
    keyspaces = {options.keyspace, Settings().CASSANDRA_KEYSPACE}
    async with (
        api.session(options.auth_url, 8) as auth,
        api.session(url, most) as chat,
        api.session(options.worker_url, 1) as running,
        write_meter(settings(options), keyspaces) as writes,
    ):
        users = await api.login_all(auth, [f"bench_send_{i}" for i in range(most + 1)])
        pairs = [(await api.open_chat(chat, users[i], users[i + 1]), users[i]) for i in range(most)]
        levels = []
        for senders in options.concurrency:
            level = Level(senders)
            await writes.start()
            applied = await api.metric(running, INBOX_APPLIED)
            meter = CpuMeter(options)
            await _api_level(chat, pairs, options.sends_per_level, level)
            level.api_cpu = meter.per_thousand(len(level.api_latencies))
            # Off the clock: the inbox projection's writes for these sends are theirs too.
            sent = applied + len(level.api_latencies)
            if not await api.until_metric(running, INBOX_APPLIED, sent, INBOX_CATCH_UP_SECONDS):
                results.notes.append(f"send: the inbox projection lagged at {senders} senders")
            level.api_writes = await writes.stop()
            await writes.start()
            meter = CpuMeter(options)
            await _raw_level(options, level)
            level.raw_cpu = meter.per_thousand(options.raw_rows)
            level.raw_writes = await writes.stop()
            try:
                await _store_level(options, level)
            except Exception as exc:  # noqa: BLE001 (a baseline of internals: report, go on)
                results.notes.append(f"send: store writes at {senders} writers failed: {exc!r}")
            levels.append(level)
    _report(options, results, levels)


PCT = (50, 99)
HEADER = [
    "senders",
    "API msg/s",
    "raw rows/s",
    "ratio",
    "store writes/s",
    "API p50 ms",
    "API p99 ms",
    "raw p99 ms",
    "Cassandra CPU s/1k sends",
    "… s/1k raw",
]


def _row(lv: Level) -> list[str]:
    api50, api99 = (percentile(lv.api_latencies, q) * 1000 for q in (0.5, 0.99))
    return [
        str(lv.senders),
        fmt(lv.api_rate),
        fmt(lv.raw_rate),
        fmt(ratio(lv.api_rate, lv.raw_rate), 2),
        fmt(lv.store_rate),
        fmt(api50),
        fmt(api99),
        fmt(percentile(lv.raw_latencies, 0.99) * 1000),
        fmt(lv.api_cpu, 2),
        fmt(lv.raw_cpu, 2),
    ]


def _writes_per_send(options: Options, results: Results, head: Level) -> list[list[str]]:
    """Figures and headline of the writes per send; the rows of their table."""
    sends = len(head.api_latencies)
    f = results.figure
    total = f("send.cassandra_writes_per_send", sum(head.api_writes.values()) / sends)
    raw_writes = sum(head.raw_writes.values())
    raw = f("send.raw_cassandra_writes_per_insert", raw_writes / options.raw_rows)
    rows = []
    for name, count in sorted(head.api_writes.items()):
        rows.append([name, fmt(f(f"send.writes_per_send.{name}", count / sends), 3)])
    rows.append(["all", fmt(total, 3)])
    results.headline(
        Headline("Cassandra partition writes per send", total, "", "per raw insert", raw)
    )
    return rows


def _report(options: Options, results: Results, levels: list[Level]) -> None:
    f = results.figure
    for lv in levels:
        f(f"send.c{lv.senders}.api_rate_per_s", lv.api_rate)
        f(f"send.c{lv.senders}.raw_insert_rate_per_s", lv.raw_rate)
        f(f"send.c{lv.senders}.store_writes_rate_per_s", lv.store_rate)
        f(f"send.c{lv.senders}.p50_ms", percentile(lv.api_latencies, 0.5) * 1000)
        f(f"send.c{lv.senders}.p99_ms", percentile(lv.api_latencies, 0.99) * 1000)
    head = next((lv for lv in levels if lv.senders == options.headline_senders), levels[-1])
    rate, raw = (
        f("send.api_rate_per_s", head.api_rate),
        f("send.raw_insert_rate_per_s", head.raw_rate),
    )
    f("send.ratio", ratio(rate, raw))
    f("send.store_writes_rate_per_s", head.store_rate)
    p50, p99 = (
        f(f"send.p{q}_ms", percentile(head.api_latencies, q / 100) * 1000) for q in (50, 99)
    )
    raw50, raw99 = (
        f(f"send.raw_p{q}_ms", percentile(head.raw_latencies, q / 100) * 1000) for q in (50, 99)
    )
    f("send.cassandra_cpu_s_per_1000", head.api_cpu)
    f("send.raw_cassandra_cpu_s_per_1000", head.raw_cpu)
    f("send.senders", head.senders)
    log = procs.commit_log(options.state)
    f("cassandra.commitlog_durable", float(log.mode in ("group", "batch")))
    if log.window_ms is not None:
        f("cassandra.commitlog_window_ms", log.window_ms)
    n = head.senders
    # Raw inserts are the floor, not a target (issue 28): the targets are the endpoint part's.
    results.headline(Headline(f"Send rate, {n} senders", rate, "msg/s", "raw insert (floor)", raw))
    results.headline(Headline(f"Send p50, {n} senders", p50, "ms", "raw insert p50", raw50))
    results.headline(Headline(f"Send p99, {n} senders", p99, "ms", "raw insert p99 (floor)", raw99))
    results.headline(
        Headline(
            "Cassandra CPU per 1,000 sends",
            head.api_cpu,
            "s",
            "per 1,000 raw inserts",
            head.raw_cpu,
        )
    )
    writes = _writes_per_send(options, results, head)
    unit = "" if log.window_ms is None else "ms window"
    results.headline(Headline(f"Cassandra commit log: {log.mode}", log.window_ms, unit))
    results.section(
        "Send",
        f"`POST /chat/{{id}}/messages` over HTTP (aiohttp, closed loop, each sender in its own "
        f"chat, {options.sends_per_level} messages per level) against raw cassandra-driver "
        f"single-row inserts into the same `message` table ({options.raw_rows} rows per level, "
        "the same number of closed-loop writers), and the Cassandra writes of as many sends "
        "through chat-service's repository (no HTTP, auth or Kafka). Cassandra commit log: "
        f"{log.describe()}.\n\n"
        + table(HEADER, [_row(lv) for lv in levels])
        + f"\n\nPartition writes Cassandra coordinated per send at {n} senders (its "
        "`system_views.coordinator_write_latency` counts; a batch counts once per partition; "
        "`chat` is the running service's inbox consumer counting the bench's messages, read "
        "once it has applied them all):\n\n" + table(["table", "writes per send"], writes),
    )
    charts.send_cdf(results, {lv.senders: lv.api_latencies for lv in levels})
    charts.send_throughput(
        results, [(lv.senders, lv.api_rate, lv.raw_rate, lv.store_rate) for lv in levels]
    )
