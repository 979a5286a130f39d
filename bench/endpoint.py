"""The chat API beside a minimal endpoint of the bench's own, in the same run, under the
same load: closed-loop senders spreading their sends over many pairs (each user under the
send limit), each side started on a settled Cassandra. Rate, p99 and the CPU time per
send of every process (from /proc), and raw driver inserts as the floor."""

import asyncio
import math
import os
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench import api, procs, rows
from bench.cassandra_writes import WriteMeter
from bench.collector import no_full_collections
from bench.minimal_app import TABLE
from bench.options import Options
from bench.private_service import Served, bench_env, serving, settings
from bench.progress import bars
from bench.results import Headline, Results, fmt, table
from bench.settle import CompactionWatch, until_settled
from bench.side import EXCLUDED, Side
from bench.stats import percentile, ratio
from chat_service.config import Settings
from chat_service.store.schema import TABLES, qualify

# Not measured: the bench's own chat-api takes the load, `make up`'s stays idle.
LEFT_OUT = ("chat-api",)
CATCH_UP_SECONDS = 60.0
WARM_UP_SENDS = 100  # per side, off the clock: connections, prepared statements, caches
INBOX_APPLIED = "chat_inbox_events_applied_total"
FIRESTORE_WRITTEN = "aggregator_messages_written_total"
# The history table's own definition under another name.
_MESSAGE_DDL = next(t for t in TABLES if "CREATE TABLE IF NOT EXISTS message (" in t)
DDL = _MESSAGE_DDL.replace(" message (", " {keyspace}." + TABLE + " (", 1)


async def _load(
    url: str, pairs: list[tuple[str, api.User]], sends: int, senders: int, side: Side | None
) -> None:
    """`sends` sends by `senders` closed-loop senders, pair after pair (a warm-up unless a
    side records it)."""
    left = iter(range(sends))
    async with api.session(url, senders) as http:

        async def sender() -> None:
            for n in left:
                chat_id, user = pairs[n % len(pairs)]
                sent = await api.send(http, chat_id, user, f"bench message {n}")
                if sent.status != 201:
                    raise RuntimeError(f"{url}: send answered {sent.status}")
                if side is not None:
                    side.latencies.append(sent.seconds)

        started = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(senders)))
        if side is not None:
            side.sends += sends
            side.seconds += time.perf_counter() - started


async def _counts(worker: aiohttp.ClientSession, aggregator: aiohttp.ClientSession) -> float:
    return min(
        await api.metric(worker, INBOX_APPLIED), await api.metric(aggregator, FIRESTORE_WRITTEN)
    )


@dataclass(frozen=True)
class Meters:
    cpu: procs.CpuMeter
    writes: WriteMeter


async def _measure(
    options: Options,
    side: Side,
    meters: Meters,
    work: Coroutine[object, object, None],
    consumers: tuple[aiohttp.ClientSession, aiohttp.ClientSession] | None = None,
) -> None:
    """Run `work` (one side's load) on a settled Cassandra, then wait for the consumers."""
    writes = meters.writes
    settle, still = await until_settled(writes.session, options.settle_seconds)
    side.still_compacting += still
    before, sent = (await _counts(*consumers) if consumers else 0.0), side.sends
    catch_up = math.nan
    await writes.start()
    meters.cpu.start()
    with CompactionWatch(writes.session) as watch, no_full_collections():
        await work
        if consumers:
            ended = time.perf_counter()
            deadline = ended + CATCH_UP_SECONDS
            while await _counts(*consumers) < before + side.sends - sent:
                if time.perf_counter() > deadline:
                    break
                await asyncio.sleep(0.1)  # polling counters: the services push nothing
            else:
                catch_up = time.perf_counter() - ended
    side.add_round(meters.cpu.stop(), await writes.stop(), settle, catch_up)
    side.compacting_reads += watch.busy


async def run(options: Options, results: Results, served: Served, log: Path) -> None:
    config = settings(options)
    cluster, session = await asyncio.to_thread(rows.connect, config)
    try:
        await asyncio.to_thread(session.execute, qualify(DDL, options.keyspace))
        names = [f"bench_send_{i}" for i in range(options.endpoint_pairs + 1)]
        async with api.session(options.auth_url, 8) as auth, api.session(served.url, 8) as chat:
            users = await api.login_all(auth, names)
            pairs = [
                (await api.open_chat(chat, users[i], users[i + 1]), users[i])
                for i in range(options.endpoint_pairs)
            ]
        app = "bench.minimal_app:create_app"
        async with serving(app, options.endpoint_port, bench_env(options), log) as minimal:
            pids = {
                **procs.running_pids(options.state, LEFT_OUT),
                "chat-api": served.pid,  # the bench's own, which takes the load
                "endpoint": minimal.pid,
                "load-generator": os.getpid(),
            }
            keyspaces = frozenset({options.keyspace, Settings().CASSANDRA_KEYSPACE})
            meter = Meters(procs.CpuMeter(pids), WriteMeter(session, keyspaces))
            sides = await _sides(options, config, meter, pairs, served.url, minimal.url)
    finally:
        await asyncio.to_thread(cluster.shutdown)
    _report(options, results, sides)


async def _sides(
    options: Options,
    config: Settings,
    meters: "Meters",
    pairs: list[tuple[str, api.User]],
    api_url: str,
    minimal_url: str,
) -> list[Side]:
    senders, sends = options.headline_senders, options.endpoint_sends
    chat_api, bare, raw = Side("chat API"), Side("minimal endpoint"), Side("raw driver inserts")
    async with (
        api.session(options.worker_url, 1) as worker,
        api.session(options.aggregator_url, 1) as aggregator,
    ):
        with bars() as progress:
            progress.add_task(f"chat API, minimal endpoint, raw inserts: {sends} sends each")
            for url in (minimal_url, api_url):
                await _load(url, pairs, WARM_UP_SENDS, senders, None)
            # Rounds, the first side alternating: a machine whose other load comes and goes
            # weighs on both sides alike.
            rounds = options.endpoint_rounds
            for n in range(rounds):
                share = sends // rounds + (sends % rounds if n == rounds - 1 else 0)

                async def api_round(share: int = share) -> None:
                    load = _load(api_url, pairs, share, senders, chat_api)
                    await _measure(options, chat_api, meters, load, (worker, aggregator))

                async def bare_round(share: int = share) -> None:
                    load = _load(minimal_url, pairs, share, senders, bare)
                    await _measure(options, bare, meters, load)

                for one in (bare_round, api_round) if n % 2 == 0 else (api_round, bare_round):
                    await one()
            await _measure(options, raw, meters, _raw(meters, config, raw, sends, senders))
    return [chat_api, bare, raw]


async def _raw(meters: "Meters", config: Settings, side: Side, sends: int, senders: int) -> None:
    side.seconds, side.latencies = await rows.raw_inserts_on(
        meters.writes.session, config, sends, senders, lambda n: None
    )
    side.sends = sends


KEYS = ("api", "minimal", "raw")  # figure names of the sides, in order
HEADER = ["", "sends/s", "p50 ms", "p99 ms", "CPU ms/send*", "settled after s",
          "compaction seen", "consumers caught up s"]  # fmt: skip


def _report(options: Options, results: Results, sides: list[Side]) -> None:
    f = results.figure
    rows_ = []
    for side, key in zip(sides, KEYS, strict=True):
        f(f"endpoint.{key}.rate_per_s", side.rate)
        p50, p99 = (f(f"endpoint.{key}.p{q}_ms", percentile(side.latencies, q / 100) * 1000)
                    for q in (50, 99))  # fmt: skip
        f(f"endpoint.{key}.cpu_ms_per_send", side.cpu_ms_counted())
        for process in side.cpu:
            f(f"endpoint.{key}.cpu_ms.{process}", side.cpu_ms(process))
        f(f"endpoint.{key}.settle_s", side.settle_seconds)
        f(f"endpoint.{key}.compacting_reads", side.compacting_reads)
        seen = f"{side.compacting_reads} of its 1 s reads" if side.compacting_reads else "no"
        if side.still_compacting:
            seen += f"; still compacting at the start: {', '.join(side.still_compacting)}"
            results.notes.append(f"endpoint: {side.name} started on a compacting Cassandra")
        rows_.append([side.name, fmt(side.rate), fmt(p50), fmt(p99), fmt(side.cpu_ms_counted(), 2),
                      fmt(side.settle_seconds), seen, fmt(side.catch_up_seconds, 2)])  # fmt: skip
    chat_api, bare, raw = sides
    sends = chat_api.sends
    writes = f("endpoint.api.cassandra_writes_per_send", sum(chat_api.writes.values()) / sends)
    f("endpoint.minimal.cassandra_writes_per_send", sum(bare.writes.values()) / bare.sends)
    f("endpoint.ratio", ratio(chat_api.rate, bare.rate))
    f("endpoint.cpu_ratio", ratio(chat_api.cpu_ms_counted(), bare.cpu_ms_counted()))
    f("endpoint.senders", options.headline_senders)
    if not math.isnan(chat_api.catch_up_seconds):
        f("endpoint.api.catch_up_s", chat_api.catch_up_seconds)
    n = options.headline_senders
    h = results.headline
    h(Headline(f"Send rate, {n} senders over {options.endpoint_pairs} pairs", chat_api.rate,
               "msg/s", "minimal endpoint", bare.rate, "≥ 0.5"))  # fmt: skip
    h(Headline(f"Send p99, {n} senders over {options.endpoint_pairs} pairs",
               f("endpoint.api.p99_ms", percentile(chat_api.latencies, 0.99) * 1000), "ms",
               "minimal endpoint", percentile(bare.latencies, 0.99) * 1000))  # fmt: skip
    h(Headline("CPU per send, every process but the Firestore emulator", chat_api.cpu_ms_counted(),
               "ms", "minimal endpoint", bare.cpu_ms_counted(), "≤ 2.0"))  # fmt: skip
    h(Headline("Consumers caught up after the sends", chat_api.catch_up_seconds, "s", "", None,
               "≤ 5 s"))  # fmt: skip
    h(Headline("Cassandra partition writes per send (same load)", writes, "",
               "minimal endpoint", sum(bare.writes.values()) / bare.sends, "≤ 3.0"))  # fmt: skip
    processes = sorted({p for side in sides for p in side.cpu})
    per_process = [
        [p + (" (not counted)" if p in EXCLUDED else "")]
        + [fmt(side.cpu_ms(p), 3) for side in sides]
        for p in processes
    ]
    per_process.append(["all counted*"] + [fmt(side.cpu_ms_counted(), 3) for side in sides])
    per_table = [[name, fmt(count / sends, 3)] for name, count in sorted(chat_api.writes.items())]
    results.section(
        "Chat API beside a minimal endpoint",
        f"{options.endpoint_sends} sends per side by {n} closed-loop senders, send n going to "
        f"pair n mod {options.endpoint_pairs} (each user stays under the send limit), after "
        f"{WARM_UP_SENDS} warm-up sends each, in {options.endpoint_rounds} round(s) with the "
        "side that goes first alternating (rates over the time under load, CPU over the "
        "rounds' windows, the longest wait and catch-up shown). The chat API is the bench's "
        "own chat-api (`make up`'s settings, its own keyspace); the minimal endpoint "
        "(`bench/minimal_app.py`) "
        "runs under the same uvicorn command: FastAPI, a pydantic body `{text}`, one prepared "
        "insert into a table shaped like `message` through the driver's async call, no auth, "
        "no middleware. Raw driver inserts: the same number of closed-loop writers, the "
        "floor. Before each side the bench waits until Cassandra's "
        "`system_views.sstable_tasks` (what `nodetool compactionstats` lists) is empty on 3 "
        "reads in a row a second apart, and reads it every second during the load. The "
        "chat API's CPU window runs until the running chat-worker's inbox projection and "
        "the aggregator have applied every send (`consumers caught up`, bounded at "
        f"{CATCH_UP_SECONDS:.0f} s).\n\n"
        + table(HEADER, rows_)
        + "\n\n*CPU ms per send of every process (utime + stime from /proc), counting all "
        "but the Firestore emulator, which stands in for a managed service. `chat-api` is "
        "the bench's own; `make up`'s is idle and not listed:\n\n"
        + table(["process", *(s.name for s in sides)], per_process)
        + "\n\nPartition writes Cassandra coordinated per chat API send:\n\n"
        + table(["table", "writes per send"], per_table)
        + f"\n\nAll: {fmt(writes, 3)}.",
    )
