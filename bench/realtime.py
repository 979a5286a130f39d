"""Firestore documents per message and the send-to-listener delay, per traffic shape.

Messages go through the public API (`--chat-url`); the running aggregator writes the
batches; a Firestore query listener per chat stamps when each message arrives. Inbox and
receipt documents of the bench users are listened to as well, so `writes_per_message`
counts every Firestore write the bench chats caused.
"""

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp

from bench import api, charts
from bench.firestore_docs import Watch, batches, delete_batches
from bench.options import Options
from bench.progress import bars
from bench.results import Headline, Results, fmt, table
from bench.stats import percentile
from chat_common.contract.documents import chat_receipts, user_inbox
from chat_common.contract.firestore import firestore_client

ARRIVAL_TIMEOUT_SECONDS = 60.0
# The lone message: one pair, one message this often, nothing else sent meanwhile.
LONE_GAP_SECONDS = 2.0


@dataclass
class Shape:
    """One traffic shape: its chats, what was sent (id -> send time) and its listeners."""

    name: str
    senders: list[tuple[str, api.User]]  # (chat id, sender)
    sent: dict[str, float] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)  # status of each failed send
    watches: list[Watch] = field(default_factory=list)  # the chats' batches
    others: list[Watch] = field(default_factory=list)  # inbox and receipt documents
    inboxes: list[Watch] = field(default_factory=list)  # the members' inboxes (of others)
    latest: dict[tuple[str, str], str] = field(default_factory=dict)  # (chat, sender) -> id
    read_errors: Counter[str] = field(default_factory=Counter)


Plan = tuple[Shape, str, api.User, list[float]]  # shape, chat id, sender, gaps between sends


async def _paced(
    chat: aiohttp.ClientSession,
    plan: Plan,
    advance: Callable[[], None],
) -> None:
    """Send one message at each scheduled instant (gaps in seconds between them)."""
    shape, chat_id, user, gaps = plan
    due = time.monotonic()
    for n, gap in enumerate(gaps):
        due += gap
        await asyncio.sleep(max(0.0, due - time.monotonic()))  # keeping to the schedule
        sent = await api.send(chat, chat_id, user, f"{shape.name} {n}")
        if sent.message_id:
            shape.sent[sent.message_id] = sent.started
            shape.latest[chat_id, user.id] = sent.message_id
        else:
            shape.errors[str(sent.status)] += 1
        advance()


async def _reading(
    chat: aiohttp.ClientSession, shape: Shape, seconds: float, interval: float = 1.0
) -> None:
    """Each member marks read, once a second, the other's newest message: what a client
    with the chat open does (debounced), so receipts and read marks are part of the load."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await asyncio.sleep(interval)  # the client's debounce interval, not a wait for an event
        for chat_id, reader in shape.senders:
            theirs = [
                message_id
                for (c, sender), message_id in shape.latest.items()
                if c == chat_id and sender != reader.id
            ]
            for up_to in theirs:
                status = await api.mark_read(chat, chat_id, reader, up_to)
                if status != 204:
                    shape.read_errors[str(status)] += 1


async def _wait_arrivals(shapes: list[Shape], arrived: asyncio.Event) -> None:
    deadline = time.monotonic() + ARRIVAL_TIMEOUT_SECONDS
    expected = {m for s in shapes for m in s.sent}
    while True:
        seen = {m for s in shapes for w in s.watches for m in w.arrivals()}
        remaining = deadline - time.monotonic()
        if expected <= seen or remaining <= 0:
            return
        arrived.clear()
        try:
            await asyncio.wait_for(arrived.wait(), remaining)
        except TimeoutError:
            return


async def run(options: Options, results: Results) -> None:
    names = ["bench_rt_a", "bench_rt_b"]
    names += [f"bench_rt_s{i}_{side}" for i in range(options.sporadic_senders) for side in "ab"]
    names += ["bench_rt_lone_a", "bench_rt_lone_b"]
    async with api.session(options.auth_url, 8) as auth, api.session(options.chat_url, 16) as chat:
        users = await api.login_all(auth, names)
        chatty = Shape("chatty pair", [])
        pair_chat = await api.open_chat(chat, users[0], users[1])
        chatty.senders = [(pair_chat, users[0]), (pair_chat, users[1])]
        sporadic = Shape(f"sporadic ({options.sporadic_senders} senders)", [])
        for i in range(options.sporadic_senders):
            a, b = users[2 + 2 * i], users[3 + 2 * i]
            sporadic.senders.append((await api.open_chat(chat, a, b), a))
        shapes = [chatty, sporadic]
        seconds = options.shape_seconds
        await _measure(
            options, chat, shapes, _schedules(shapes, seconds, random.Random(1)), seconds
        )
        # Alone, after the others have arrived: no other traffic shares its batches or polls.
        sender, other = users[-2:]
        lone = Shape("lone message", [(await api.open_chat(chat, sender, other), sender)])
        gaps = [LONE_GAP_SECONDS] * options.lone_messages
        await _measure(options, chat, [lone], [(lone, lone.senders[0][0], sender, gaps)], 0.0)
        shapes.append(lone)
    _report(options, results, shapes)


async def _measure(
    options: Options,
    chat: aiohttp.ClientSession,
    shapes: list[Shape],
    plans: list[Plan],
    reading_seconds: float,
) -> None:
    """Send by the plans with every listener open (the first shape's members also mark
    read for `reading_seconds`), then wait for the messages to arrive."""
    loop, arrived = asyncio.get_running_loop(), asyncio.Event()

    def notify() -> None:
        loop.call_soon_threadsafe(arrived.set)

    db = firestore_client(options.firestore_project, options.firestore)
    since = datetime.now(UTC)
    try:
        for shape in shapes:
            chats = {chat_id for chat_id, _ in shape.senders}
            members = {u.id for _, u in shape.senders}
            shape.watches = [Watch(batches(db, c, since), notify) for c in chats]
            shape.inboxes = [Watch(db.collection(user_inbox(m)), notify) for m in members]
            shape.others = shape.inboxes + [
                Watch(db.collection(chat_receipts(c)), notify) for c in chats
            ]
        every = [w for s in shapes for w in s.watches + s.others]
        await asyncio.gather(*(asyncio.to_thread(w.wait_ready) for w in every))
        with bars() as progress:
            bar = progress.add_task(
                f"Firestore: {', '.join(s.name for s in shapes)}",
                total=sum(len(p[3]) for p in plans),
            )
            await asyncio.gather(
                *(_paced(chat, p, lambda: progress.advance(bar)) for p in plans),
                _reading(chat, shapes[0], reading_seconds),
            )
            await _wait_arrivals(shapes, arrived)
    finally:
        for shape in shapes:
            for watch in shape.watches + shape.others:
                watch.close()
        every_chat = {chat_id for shape in shapes for chat_id, _ in shape.senders}
        try:
            await asyncio.to_thread(delete_batches, db, every_chat, since)
        finally:
            db.close()


def _schedules(shapes: list[Shape], seconds: float, rng: random.Random) -> list[Plan]:
    chatty, sporadic = shapes
    plans: list[Plan] = [
        (chatty, c, u, [0.2] * int(seconds * 5)) for c, u in chatty.senders
    ]  # 5 msg/s each
    for chat_id, user in sporadic.senders:
        gaps = [rng.uniform(0, 3)]  # senders start out of step
        while sum(gaps) + 4.0 < seconds:
            gaps.append(rng.uniform(2.5, 4.0))  # quieter than the aggregation window
        plans.append((sporadic, chat_id, user, gaps))
    return plans


HEADER = [
    "shape", "messages", "batch docs", "docs/msg", "all writes/msg", "p50 ms", "p95 ms",
    "inbox p95 ms", "never arrived", "send errors",
]  # fmt: skip
KEYS = ("chatty", "sporadic", "lone")  # figure names of the shapes, in order


def _report(options: Options, results: Results, shapes: list[Shape]) -> None:
    rows, f = [], results.figure
    for shape, key in zip(shapes, KEYS, strict=True):
        arrivals: dict[str, float] = {}
        for watch in shape.watches:
            arrivals.update(watch.arrivals())
        docs = sum(len(w.added) for w in shape.watches)
        writes = docs + sum(w.changes for w in shape.others)
        delays = [(arrivals[m] - t) * 1000 for m, t in shape.sent.items() if m in arrivals]
        n = max(len(shape.sent), 1)
        per_doc = f(f"firestore.{key}.batch_docs_per_message", docs / n)
        per_write = f(f"firestore.{key}.writes_per_message", writes / n)
        f(f"firestore.{key}.messages", len(shape.sent))
        missing = f(f"firestore.{key}.missing", len(shape.sent) - len(delays))
        f(f"firestore.{key}.send_errors", sum(shape.errors.values()))
        p50 = f(f"firestore.{key}.delay_p50_ms", percentile(delays, 0.5))
        p95 = f(f"firestore.{key}.delay_p95_ms", percentile(delays, 0.95))
        # Send -> an inbox entry of the chat showing that message (or a newer one). Both
        # members' entries go out in the same commit; the first to arrive counts.
        shown: dict[str, float] = {}
        for inbox in shape.inboxes:
            for message_id, arrival in inbox.inbox_arrivals(shape.sent).items():
                shown[message_id] = min(arrival, shown.get(message_id, arrival))
        inbox_delays = [(shown[m] - t) * 1000 for m, t in shape.sent.items() if m in shown]
        inbox_p95 = f(f"firestore.{key}.inbox_delay_p95_ms", percentile(inbox_delays, 0.95))
        f(f"firestore.{key}.read_errors", sum(shape.read_errors.values()))
        chatty, lone = key == "chatty", key == "lone"
        if lone:
            # Our part (POST to the batch document committed) apart from the emulator's
            # delivery to the listener.
            committed: dict[str, float] = {}
            for watch in shape.watches:
                committed.update(watch.commits())
            commit_delays = [(committed[m] - t) * 1000 for m, t in shape.sent.items()
                             if m in committed]  # fmt: skip
            c50, c95 = (f(f"firestore.{key}.commit_p{q}_ms", percentile(commit_delays, q / 100))
                        for q in (50, 95))  # fmt: skip
            for q, value in ((50, c50), (95, c95)):
                what = f"Send → batch committed p{q}, {shape.name}"
                results.headline(Headline(what, value, "ms"))
            results.headline(Headline(f"Send → listener p50, {shape.name}", p50, "ms"))
            results.headline(Headline(f"Send → listener p95, {shape.name}", p95, "ms", "", None,
                                      "≤ 60 ms"))  # fmt: skip
        else:
            what = f"Firestore batch docs per message, {shape.name}"
            target = "≤ 0.25" if chatty else ""
            results.headline(Headline(what, per_doc, "", "one doc per message", 1.0, target))
        if chatty:
            what = f"Firestore writes (all) per message, {shape.name}"
            results.headline(Headline(what, per_write, "", "one doc per message", 1.0, "≤ 0.5"))
        if not lone:
            results.headline(Headline(f"Send → listener p95, {shape.name}", p95, "ms"))
            target = "≤ 1300" if chatty else ""
            what = f"Send → inbox shows it p95, {shape.name}"
            results.headline(Headline(what, inbox_p95, "ms", "", None, target))
        errors = ", ".join(f"{status} ×{k}" for status, k in shape.errors.items()) or "0"
        rows.append([shape.name, str(len(shape.sent)), str(docs), fmt(per_doc, 2),
                     fmt(per_write, 2), fmt(p50), fmt(p95), fmt(inbox_p95), f"{missing:g}",
                     errors])  # fmt: skip
    results.section(
        "Firestore",
        f"Sent over HTTP to {options.chat_url} for {options.shape_seconds:g} s: a chatty pair "
        "(two senders in one chat, 5 msg/s each) and sporadic senders (one message every "
        "2.5–4 s each, in their own chats). Delay: from issuing the POST to a Firestore query "
        "listener on the chat's batches receiving the document. All writes: batch documents "
        "plus every change the bench users' inbox and receipt documents saw; in the chatty "
        "pair each member also marks the other's newest message read once a second. Inbox "
        "delay: from the POST to an inbox listener of the chat's members showing that message "
        "or a newer one as `last_message`. Then the lone message, alone on the system: one "
        f"pair, one message every {LONE_GAP_SECONDS:g} s, {options.lone_messages} messages; "
        "its 'batch committed' is the document's create_time (the emulator's clock, this "
        "machine's): the send's own path, without the listener's delivery."
        "\n\n" + table(HEADER, rows),
    )
    per_message = {s.name: results.figures[f"firestore.{k}.batch_docs_per_message"]
                   for s, k in zip(shapes, KEYS, strict=True)}  # fmt: skip
    charts.docs_per_message(results, per_message)
