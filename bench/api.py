"""The public API as the bench drives it: aiohttp (httpx's client cost more CPU per
request than the service did, on two cores it measured itself at about 60 requests/s)."""

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

PASSWORD = "bench-password-1"
# Longer than any request may take on a loaded two-core machine; a send that takes this
# long is counted as an error ("timeout"), never waited on forever.
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=30)
AUTH_ATTEMPTS = 5


@dataclass
class User:
    """A bench user: its id, and the Authorization header of a current access token."""

    id: str
    username: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Sent:
    """What one send came to: HTTP status (or an error name), message id, seconds taken."""

    status: int | str
    message_id: str | None
    started: float  # time.time() when the request was issued
    seconds: float


def session(base_url: str, connections: int) -> aiohttp.ClientSession:
    """A client session with enough pooled connections for `connections` senders."""
    connector = aiohttp.TCPConnector(limit=connections + 10)
    return aiohttp.ClientSession(base_url=base_url, connector=connector, timeout=REQUEST_TIMEOUT)


async def _post(auth: aiohttp.ClientSession, path: str, body: dict[str, str]) -> tuple[int, Any]:
    """POST, waiting out 429/503 answers for their Retry-After (a few times at most)."""
    for _ in range(AUTH_ATTEMPTS):
        async with auth.post(path, json=body) as response:
            if response.status not in (429, 503):
                return response.status, await response.json()
            await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
    raise RuntimeError(f"{path}: still refused after {AUTH_ATTEMPTS} attempts")


async def login(auth: aiohttp.ClientSession, username: str) -> User:
    """Register `username` unless it exists (bench users are reused), log in, read the id."""
    body = {"username": username, "password": PASSWORD}
    status, _ = await _post(auth, "/auth/register", body)
    if status not in (201, 409):
        raise RuntimeError(f"register {username}: HTTP {status}")
    status, answer = await _post(auth, "/auth/login", body)
    if status != 200:
        raise RuntimeError(f"login {username}: HTTP {status}")
    headers = {"Authorization": f"Bearer {answer['access_token']}"}
    async with auth.get("/users/me", headers=headers) as me:
        me.raise_for_status()
        return User((await me.json())["id"], username, headers)


async def login_all(auth: aiohttp.ClientSession, usernames: list[str]) -> list[User]:
    """Log many users in, two at a time (the auth service hashes two passwords at once)."""
    gate = asyncio.Semaphore(2)

    async def one(name: str) -> User:
        async with gate:
            return await login(auth, name)

    return list(await asyncio.gather(*(one(name) for name in usernames)))


async def open_chat(chat: aiohttp.ClientSession, user: User, other: User) -> str:
    """The chat of two users (created on first call): its id."""
    async with chat.post("/chats", json={"user_id": other.id}, headers=user.headers) as response:
        response.raise_for_status()
        return str((await response.json())["id"])


async def send(chat: aiohttp.ClientSession, chat_id: str, user: User, text: str) -> Sent:
    """POST one message; a transport failure is reported as its exception's name."""
    started, clock = time.time(), time.perf_counter()
    try:
        async with chat.post(
            f"/chat/{chat_id}/messages", json={"text": text}, headers=user.headers
        ) as response:
            body = await response.json() if response.status == 201 else None
            status: int | str = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        body, status = None, type(exc).__name__
    return Sent(status, body["id"] if body else None, started, time.perf_counter() - clock)


async def mark_read(chat: aiohttp.ClientSession, chat_id: str, user: User, up_to: str) -> int:
    """POST a read mark; the status (204 when accepted)."""
    async with chat.post(
        f"/chat/{chat_id}/read", json={"up_to": up_to}, headers=user.headers
    ) as response:
        return response.status


async def page(
    chat: aiohttp.ClientSession, chat_id: str, user: User, before: str, quantity: int = 10
) -> float:
    """Seconds one history page took (raises unless it is full)."""
    params = {"time": before, "quantity": str(quantity)}
    started = time.perf_counter()
    async with chat.get(f"/chat/{chat_id}", params=params, headers=user.headers) as response:
        response.raise_for_status()
        items = (await response.json())["items"]
    seconds = time.perf_counter() - started
    if len(items) != quantity:
        raise RuntimeError(f"page before {before} had {len(items)} of {quantity} messages")
    return seconds


async def metric(http: aiohttp.ClientSession, name: str) -> float:
    """A counter's value on a service's /metrics (0 when it has no sample yet)."""
    return sum(value for _, value in await samples(http, name, {}))


async def until_metric(
    http: aiohttp.ClientSession, name: str, at_least: float, timeout: float
) -> bool:
    """Whether a counter reached `at_least` within `timeout` seconds (read every 0.2 s)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while await metric(http, name) < at_least:
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.2)  # polling a counter: the service pushes nothing to wait on
    return True


async def samples(
    http: aiohttp.ClientSession, name: str, labels: dict[str, str]
) -> list[tuple[dict[str, str], float]]:
    """Every sample of `name` on a service's /metrics whose labels include `labels`."""
    async with http.get("/metrics") as response:
        response.raise_for_status()
        text = await response.text()
    return [
        (sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    ]
