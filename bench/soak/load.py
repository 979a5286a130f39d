"""Open-loop load: one send every 1/rate seconds, round-robin over the senders, each
fired on schedule whether or not earlier sends have answered (a slow server does not
lower the offered load)."""

import asyncio
from collections import Counter
from dataclasses import dataclass, field

import aiohttp

from bench import api
from bench.collector import no_full_collections
from bench.progress import bars
from bench.stats import per_minute, percentile

RELOGIN_SECONDS = 600.0  # access tokens live 15 minutes


@dataclass
class Load:
    """What a soak sent and what came back."""

    seconds: float = 0.0
    sent: list[api.Sent] = field(default_factory=list)
    accepted: dict[str, str] = field(default_factory=dict)  # message id -> chat id

    def statuses(self) -> Counter[str]:
        return Counter(str(s.status) for s in self.sent)

    def errors(self) -> Counter[str]:
        return Counter(str(s.status) for s in self.sent if s.status != 201)

    def minutes(self, rate: float) -> list[tuple[int, int, float, float]]:
        """(minute, sends, p50 ms, p99 ms) for every minute of the run, by when each send
        was due (send n at n / rate seconds)."""
        due = ((n / rate, s.seconds * 1000) for n, s in enumerate(self.sent))
        grouped = per_minute(due, 0.0)
        return [(m, len(v), percentile(v, 0.5), percentile(v, 0.99)) for m, v in grouped.items()]


async def _relogin(auth: aiohttp.ClientSession, users: list[api.User]) -> None:
    """Fresh access tokens before the old ones expire, for soaks longer than their life."""
    while True:
        await asyncio.sleep(RELOGIN_SECONDS)
        for user in users:
            user.headers = (await api.login(auth, user.username)).headers


async def run(
    auth: aiohttp.ClientSession,
    chat: aiohttp.ClientSession,
    senders: list[tuple[str, api.User]],
    rate: float,
    seconds: float,
) -> Load:
    load = Load()
    total = int(rate * seconds)
    tasks: list[asyncio.Task[api.Sent]] = []
    relogin = asyncio.create_task(_relogin(auth, [u for _, u in senders]))
    loop = asyncio.get_running_loop()
    try:
        with bars() as progress, no_full_collections():
            bar = progress.add_task(f"soak, {rate:g} msg/s for {seconds:g} s", total=total)

            def done(_: asyncio.Task[api.Sent]) -> None:
                progress.advance(bar)

            start = loop.time()
            for n in range(total):
                await asyncio.sleep(max(0.0, start + n / rate - loop.time()))  # the schedule
                chat_id, user = senders[n % len(senders)]
                task = asyncio.create_task(api.send(chat, chat_id, user, f"soak {n}"))
                task.add_done_callback(done)
                tasks.append(task)
            load.sent = list(await asyncio.gather(*tasks))
            load.seconds = loop.time() - start
    finally:
        relogin.cancel()
    for n, sent in enumerate(load.sent):
        if sent.message_id:
            load.accepted[sent.message_id] = senders[n % len(senders)][0]
    return load
