"""History pages: latency against depth, in a chat seeded with `--deep` messages."""

import asyncio
import uuid

import aiohttp

from bench import api, charts, rows
from bench.options import Options
from bench.private_service import settings
from bench.progress import bars, console
from bench.results import Headline, Results, fmt, table
from bench.stats import percentile, ratio


async def _seed(options: Options, chat_id: str, sender: api.User) -> list[uuid.UUID]:
    ids = rows.deep_ids(options.deep)
    with bars() as progress:
        task = progress.add_task(f"seed {options.deep:,} messages", total=len(ids))
        seeded = await asyncio.to_thread(
            rows.seed_deep_chat,
            settings(options),
            uuid.UUID(chat_id),
            uuid.UUID(sender.id),
            ids,
            lambda n: progress.advance(task, n),
        )
    if not seeded:
        console.print(f"deep chat of {options.deep:,} messages: seeded by an earlier run")
    return ids


async def _pages(
    chat: aiohttp.ClientSession,
    chat_id: str,
    user: api.User,
    ids: list[uuid.UUID],
    options: Options,
) -> dict[int, list[float]]:
    # A full page needs 10 messages older than the one it starts from.
    depths = sorted({min(d, len(ids) - 11) for d in options.depths})
    latencies: dict[int, list[float]] = {depth: [] for depth in depths}
    with bars() as progress:
        task = progress.add_task("history pages", total=len(depths) * options.page_rounds)
        for depth in depths:  # one unrecorded page each: caches warm alike
            await api.page(chat, chat_id, user, str(ids[depth]))
        # Depths in turn within every round, so whatever else loads the machine (compaction
        # after the seeding, other work) weighs on every depth alike.
        for _ in range(options.page_rounds):
            for depth in depths:
                latencies[depth].append(await api.page(chat, chat_id, user, str(ids[depth])))
                progress.advance(task)
    return latencies


async def run(options: Options, results: Results, url: str) -> None:
    async with api.session(options.auth_url, 2) as auth, api.session(url, 2) as chat:
        a, b = await api.login_all(
            auth, [f"bench_deep{options.deep}_a", f"bench_deep{options.deep}_b"]
        )
        chat_id = await api.open_chat(chat, a, b)
        ids = await _seed(options, chat_id, a)
        latencies = await _pages(chat, chat_id, a, ids, options)
    shallow, deep = min(latencies), max(latencies)
    for depth, samples in latencies.items():
        results.figure(f"history.depth_{depth}.p50_ms", percentile(samples, 0.5) * 1000)
        results.figure(f"history.depth_{depth}.p99_ms", percentile(samples, 0.99) * 1000)
    p50_deep = results.figure("history.deep_p50_ms", percentile(latencies[deep], 0.5) * 1000)
    p50_shallow = results.figure(
        "history.shallow_p50_ms", percentile(latencies[shallow], 0.5) * 1000
    )
    results.figure("history.deep_depth", deep)
    results.figure("history.ratio", ratio(p50_deep, p50_shallow))
    results.headline(
        Headline(
            f"History page p50 at depth {deep:,}",
            p50_deep,
            "ms",
            f"at depth {shallow}",
            p50_shallow,
            "≈ 1",
        )
    )
    rows_md = [
        [f"{d:,}", fmt(percentile(s, 0.5) * 1000), fmt(percentile(s, 0.99) * 1000)]
        for d, s in sorted(latencies.items())
    ]
    results.section(
        "History",
        f"`GET /chat/{{id}}?time=<id>&quantity=10` in a chat of {len(ids):,} messages (seeded with "
        f"the raw driver, one a second), {options.page_rounds} pages at each depth.\n\n"
        + table(["depth", "p50 ms", "p99 ms"], rows_md),
    )
    charts.page_latency(results, latencies)
