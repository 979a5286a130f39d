"""Send latency with the chat-worker running and with it stopped (SIGSTOP): the API must not
wait on its consumers (issue 23: paused p99 within 10 % of running).

The same senders send in rounds that alternate running / paused, so the drift of a noisy
machine falls on both. After each paused round the worker is resumed (SIGCONT) and its inbox
projection must apply exactly what was sent before the next round starts; the time that
took is reported as the catch-up."""

import asyncio
import math
import os
import signal
import time

import aiohttp

from bench import api, procs
from bench.collector import no_full_collections
from bench.options import Options
from bench.progress import bars
from bench.results import Headline, Results, fmt, table
from bench.stats import percentile, ratio

INBOX_APPLIED = "chat_inbox_events_applied_total"
ROUNDS = 2
CATCH_UP_SECONDS = 120.0
STATES = ("running", "paused")


async def _round(
    chat: aiohttp.ClientSession,
    pairs: list[tuple[str, api.User]],
    total: int,
    latencies: list[float],
    label: str,
) -> int:
    """`total` sends spread over the pairs, closed loop; how many were sent."""
    per_sender = math.ceil(total / len(pairs))
    with bars() as progress, no_full_collections():
        task = progress.add_task(label, total=per_sender * len(pairs))

        async def sender(chat_id: str, user: api.User) -> None:
            for n in range(per_sender):
                sent = await api.send(chat, chat_id, user, f"worker bench {n}")
                if sent.status != 201:
                    raise RuntimeError(f"send answered {sent.status}")
                latencies.append(sent.seconds)
                progress.advance(task)

        await asyncio.gather(*(sender(c, u) for c, u in pairs))
    return per_sender * len(pairs)


async def run(options: Options, results: Results, url: str) -> None:
    pid = procs.pid_of(options.state, "chat-worker")
    if pid is None:
        raise RuntimeError("chat-worker is not running (make up)")
    senders, per_round = options.headline_senders, options.sends_per_level
    latencies: dict[str, list[float]] = {state: [] for state in STATES}
    catch_up: list[float] = []
    async with (
        api.session(options.auth_url, 8) as auth,
        api.session(url, senders) as chat,
        api.session(options.worker_url, 1) as worker,
    ):
        users = await api.login_all(auth, [f"bench_worker_{i}" for i in range(senders + 1)])
        pairs = [
            (await api.open_chat(chat, users[i], users[i + 1]), users[i]) for i in range(senders)
        ]
        for n in range(ROUNDS):
            for state in STATES:
                applied = await api.metric(worker, INBOX_APPLIED)
                label = f"send, worker {state}, round {n + 1}"
                if state == "paused":
                    os.kill(pid, signal.SIGSTOP)
                try:
                    sent = await _round(chat, pairs, per_round, latencies[state], label)
                finally:
                    if state == "paused":
                        os.kill(pid, signal.SIGCONT)
                resumed = time.perf_counter()
                await _caught_up(worker, applied + sent)
                if state == "paused":
                    catch_up.append(time.perf_counter() - resumed)
    _report(results, senders, latencies, catch_up)


async def _caught_up(worker: aiohttp.ClientSession, applied: float) -> None:
    if not await api.until_metric(worker, INBOX_APPLIED, applied, CATCH_UP_SECONDS):
        raise RuntimeError(f"the worker's inbox did not catch up in {CATCH_UP_SECONDS} s")


def _report(
    results: Results, senders: int, latencies: dict[str, list[float]], catch_up: list[float]
) -> None:
    f = results.figure
    p99 = {}
    rows = []
    for state in STATES:
        p50 = f(f"worker.{state}.p50_ms", percentile(latencies[state], 0.5) * 1000)
        p99[state] = f(f"worker.{state}.p99_ms", percentile(latencies[state], 0.99) * 1000)
        rows.append([state, str(len(latencies[state])), fmt(p50), fmt(p99[state])])
    f("worker.paused_p99_ratio", ratio(p99["paused"], p99["running"]))
    slowest = f("worker.catch_up_s", max(catch_up))
    results.headline(
        Headline(
            f"Send p99, worker stopped, {senders} senders",
            p99["paused"],
            "ms",
            "worker running",
            p99["running"],
            "≤ 1.10",
        )
    )
    results.section(
        "Send with the worker stopped",
        f"{senders} closed-loop senders, {ROUNDS} rounds alternating the running chat-worker "
        "and the same worker stopped with SIGSTOP (its consumer groups, its outbox sweeper); "
        "after each stopped round it gets SIGCONT and its inbox projection applies every "
        f"message sent before the next round (slowest catch-up {fmt(slowest)} s).\n\n"
        + table(["worker", "sends", "p50 ms", "p99 ms"], rows),
    )
