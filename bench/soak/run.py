"""The soak as a part of the report: load, then memory, tombstones and Firestore checks."""

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from bench import api, charts, procs
from bench.firestore_docs import delete_batches, message_counts
from bench.options import Options
from bench.results import Headline, Results, fmt, table
from bench.soak import load as soak_load
from bench.soak import minutes
from bench.stats import percentile
from chat_common.contract.firestore import firestore_client

FIRESTORE_TIMEOUT_SECONDS = 120.0
FIRESTORE_POLL_SECONDS = 5.0  # each look reads every batch of the soak chats


def _exactly_once(options: Options, accepted: dict[str, str], since: datetime) -> Counter[str]:
    """Copies of every message id in the soak chats' batches, once all accepted arrived
    (or the bound passed); then those documents are deleted."""
    db = firestore_client(options.firestore_project, options.firestore)
    chats = set(accepted.values())
    try:
        deadline = time.monotonic() + FIRESTORE_TIMEOUT_SECONDS
        while True:
            counts = message_counts(db, chats, since)
            if accepted.keys() <= counts.keys() or time.monotonic() > deadline:
                break
            time.sleep(FIRESTORE_POLL_SECONDS)  # re-reading Firestore until it holds them all
        delete_batches(db, chats, since)
        return counts
    finally:
        db.close()


async def run(options: Options, results: Results) -> None:
    names = [f"bench_soak_{i}_{side}" for i in range(options.soak_pairs) for side in "ab"]
    async with (
        api.session(options.auth_url, 8) as auth,
        api.session(options.chat_url, 2 * options.soak_pairs) as chat,
    ):
        users = await api.login_all(auth, names)
        senders = []
        for a, b in zip(users[::2], users[1::2], strict=True):
            chat_id = await api.open_chat(chat, a, b)
            senders += [(chat_id, a), (chat_id, b)]
        tombstones = procs.LogWatch(options.state / "cassandra" / "cassandra.log")
        samples = [await minutes.sample(options, chat)]
        sampler = asyncio.create_task(minutes.each_minute(options, chat, samples))
        since = datetime.now(UTC) - timedelta(seconds=1)
        try:
            load = await soak_load.run(auth, chat, senders, options.soak_rate, options.soak_seconds)
        finally:
            sampler.cancel()
        samples.append(await minutes.sample(options, chat))
    counts = await asyncio.to_thread(_exactly_once, options, load.accepted, since)
    warnings = tombstones.new_lines(procs.TOMBSTONE_WARNING)
    memory = (samples[0].memory, samples[-1].memory)
    _report(options, results, load, memory, counts, warnings)
    minutes.report(results, samples)


Memory = minutes.Memory


def _memory(results: Results, start: Memory, end: Memory) -> str:
    """Figures per component, and the table (a restarted component shows its pids)."""
    rows = []
    for c in procs.COMPONENTS:
        before, after = start.get(c), end.get(c)
        growth = procs.growth_pct(before, after)
        if before is not None and after is not None and growth is not None:
            results.figure(f"soak.memory.{c}.start_mib", before.mib)
            results.figure(f"soak.memory.{c}.end_mib", after.mib)
            results.figure(f"soak.memory.{c}.growth_pct", growth)
        note = fmt(growth)
        if before is not None and after is not None and before.pid != after.pid:
            note = f"restarted (pid {before.pid} → {after.pid})"
        rows.append(
            [c, fmt(before.mib if before else None), fmt(after.mib if after else None), note]
        )
    return table(["component", "start MiB", "end MiB", "growth %"], rows)


def _report(
    options: Options,
    results: Results,
    load: soak_load.Load,
    memory: tuple[Memory, Memory],
    counts: Counter[str],
    warnings: list[str],
) -> None:
    f = results.figure
    errors, accepted = load.errors(), set(load.accepted)
    missing = f("soak.firestore_missing", len(accepted - counts.keys()))
    duplicated = f("soak.firestore_duplicated", sum(1 for m in accepted if counts[m] > 1))
    unexpected = f("soak.firestore_unexpected", len(counts.keys() - accepted))
    minutes = load.minutes(options.soak_rate)
    latencies = [s.seconds * 1000 for s in load.sent]
    offered = f("soak.offered_rate_per_s", options.soak_rate)
    rate = f("soak.accepted_rate_per_s", len(accepted) / load.seconds)
    f("soak.sends", len(load.sent))
    n_errors = f("soak.errors", sum(errors.values()))
    f("soak.p50_ms", percentile(latencies, 0.5))
    f("soak.p99_ms", percentile(latencies, 0.99))
    worst = f("soak.p99_worst_minute_ms", max(m[3] for m in minutes))
    best = f("soak.p99_best_minute_ms", min(m[3] for m in minutes))
    f("soak.tombstone_warnings", len(warnings))
    memory_table = _memory(results, *memory)
    growth = results.figures.get("soak.memory.chat-api.growth_pct")
    what = f"Soak ({options.soak_seconds / 60:g} min at {offered:g} msg/s)"
    for row in (
        Headline(f"{what}: accepted rate", rate, "msg/s", "offered", offered, "= 1"),
        Headline(f"{what}: errors", n_errors, "", target="0"),
        Headline(f"{what}: p99, worst minute", worst, "ms", "best minute", best, "< 100 ms, flat"),
        Headline(f"{what}: chat-api memory growth", growth, "%", target="< 10 %"),
        Headline(f"{what}: Cassandra tombstone warnings", len(warnings), "", target="0"),
        Headline(f"{what}: messages not in Firestore exactly once", missing + duplicated, "",
                 "accepted", len(accepted), "0"),
    ):  # fmt: skip
        results.headline(row)
    minute_rows = [[str(m), str(n), fmt(p50), fmt(p99)] for m, n, p50, p99 in minutes]
    error_rows = [[status, str(n)] for status, n in sorted(errors.items())] or [["none", "0"]]
    body = [
        f"{options.soak_pairs} pairs of users (both members send) at {offered:g} msg/s in all "
        f"for {options.soak_seconds:g} s, through {options.chat_url}; sends are fired on "
        f"schedule (open loop). Accepted: {len(accepted):,} of {len(load.sent):,}.",
        "**Errors by status**\n\n" + table(["status", "sends"], error_rows),
        "**Latency per minute** (by when each send was due)\n\n"
        + table(["minute", "sends", "p50 ms", "p99 ms"], minute_rows),
        "**Resident memory**\n\n" + memory_table,
        f"**Firestore**: of {len(accepted):,} accepted messages, {missing:g} never reached a "
        f"batch document, {duplicated:g} are in more than one; {unexpected:g} messages in the "
        "soak chats' batches were not acknowledged to the bench (sends that failed on the "
        "client's side yet were stored).",
        f"**Cassandra tombstone warnings** logged during the soak: {len(warnings)}"
        + "".join(f"\n\n    {line[:300]}" for line in warnings[:3]),
    ]
    results.section("Soak", "\n\n".join(body))
    charts.soak_minutes(results, [(m, p50, p99) for m, _, p50, p99 in minutes])
