"""End-to-end fixtures: every real service that `make up` runs, reached as a client would.

Endpoints come from the same variables the clients read (AUTH_URL, CHAT_URL,
FIRESTORE_EMULATOR_HOST, FIRESTORE_PROJECT) plus AGGREGATOR_URL, with `make up`'s defaults.
A service that is not ready within a minute fails the session with a clear message.
"""

import asyncio
import os
import queue
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.cloud import firestore
from playwright.async_api import Browser, async_playwright

from chat_common.contract.firestore import firestore_client as new_firestore_client

REPO = Path(__file__).resolve().parents[2]
AUTH_URL = os.environ.get("AUTH_URL", "http://127.0.0.1:8001").rstrip("/")
CHAT_URL = os.environ.get("CHAT_URL", "http://127.0.0.1:8002").rstrip("/")
AGGREGATOR_URL = os.environ.get("AGGREGATOR_URL", "http://127.0.0.1:8003").rstrip("/")
FIRESTORE_HOST = os.environ.get("FIRESTORE_EMULATOR_HOST", "127.0.0.1:8080")
FIRESTORE_PROJECT = os.environ.get("FIRESTORE_PROJECT", "demo-chat")
READY_WAIT_SECONDS = 60.0
PASSWORD = "e2e-password-1"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


async def _wait_http(name: str, url: str) -> None:
    deadline = time.monotonic() + READY_WAIT_SECONDS
    last = "no answer"
    async with httpx.AsyncClient(timeout=2.0) as http:
        while time.monotonic() < deadline:
            try:
                response = await http.get(url)
                if response.status_code == 200:
                    return
                last = f"HTTP {response.status_code} {response.text[:200]}"
            except httpx.HTTPError as exc:
                last = repr(exc)
            await asyncio.sleep(1.0)
    pytest.fail(f"{name} is not ready at {url} after {READY_WAIT_SECONDS:.0f} s ({last}): make up")


@dataclass(frozen=True)
class Urls:
    auth: str = AUTH_URL
    chat: str = CHAT_URL
    aggregator: str = AGGREGATOR_URL


@pytest.fixture(scope="session")
def urls() -> Urls:
    """Where the services are (test modules cannot import conftest)."""
    return Urls()


@pytest.fixture(scope="session")
async def stack() -> None:
    """Waits for auth-service, chat-service and the aggregator (bounded)."""
    await _wait_http("auth-service", f"{AUTH_URL}/readyz")
    await _wait_http("chat-service", f"{CHAT_URL}/readyz")
    await _wait_http("aggregator", f"{AGGREGATOR_URL}/healthz")


@pytest.fixture(scope="session")
def firestore_client(stack: None) -> Iterator[firestore.Client]:
    client = new_firestore_client(FIRESTORE_PROJECT, FIRESTORE_HOST)
    deadline = time.monotonic() + READY_WAIT_SECONDS
    while True:
        try:
            client.collection("readiness").document("probe").get(timeout=3)
            break
        except Exception as exc:  # any failure means "not ready yet"
            if time.monotonic() > deadline:
                pytest.fail(f"Firestore at {FIRESTORE_HOST} is not ready: {exc!r} (make up)")
            time.sleep(1.0)
    yield client
    client.close()


# Headless Chromium (Debian's) for the web page's tests, shared by their modules.
@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        # The project's own installer (Debian's package); never a browser download.
        script = REPO / "infra" / "tools" / "install-chromium.sh"
        done = subprocess.run(["bash", str(script)], capture_output=True, text=True, check=False)
        if done.returncode != 0 or not CHROMIUM.exists():
            pytest.fail(f"{CHROMIUM} is missing and {script} failed: {done.stderr[-2000:]}")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        await browser.close()


@dataclass
class User:
    id: str
    username: str
    password: str
    access_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


@pytest.fixture(scope="session")
async def http(stack: None) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10.0) as client:
        yield client


@pytest.fixture(scope="session")
def make_user(http: httpx.AsyncClient) -> Callable[[str], Awaitable[User]]:
    """Registers and logs in a new user whose name starts with `prefix` (unique)."""

    async def create(prefix: str) -> User:
        username = f"{prefix}{uuid.uuid4().hex[:10]}"
        registered = await http.post(
            f"{AUTH_URL}/auth/register", json={"username": username, "password": PASSWORD}
        )
        assert registered.status_code == 201, registered.text
        login = await http.post(
            f"{AUTH_URL}/auth/login", json={"username": username, "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        return User(registered.json()["id"], username, PASSWORD, login.json()["access_token"])

    return create


@pytest.fixture(scope="session")
def delete_account(http: httpx.AsyncClient) -> Callable[[User], Awaitable[None]]:
    """DELETE /users/me as `user` (204 asserted): announces `user.deleted`."""

    async def delete(user: User) -> None:
        deleted = await http.request(
            "DELETE",
            f"{AUTH_URL}/users/me",
            json={"password": user.password},
            headers=user.headers,
        )
        assert deleted.status_code == 204, deleted.text

    return delete


@pytest.fixture
def open_chat(http: httpx.AsyncClient, urls: Urls) -> Callable[[User, User], Awaitable[str]]:
    """POST /chats as `user` with `other` (created, or found): the chat's id."""

    async def open_(user: User, other: User) -> str:
        response = await http.post(
            f"{urls.chat}/chats", json={"user_id": other.id}, headers=user.headers
        )
        assert response.status_code in (200, 201), response.text
        return str(response.json()["id"])

    return open_


@dataclass
class FirestoreBatches:
    """Every batch document a query listener on one chat delivered, in delivery order."""

    updates: "queue.Queue[dict[str, Any]]" = field(default_factory=queue.Queue)
    received: list[dict[str, Any]] = field(default_factory=list)

    def message_ids(self) -> list[str]:
        return [m["id"] for batch in self.received for m in batch["messages"]]

    def wait_for(self, ids: set[str], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not ids <= set(self.message_ids()):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                missing = ids - set(self.message_ids())
                pytest.fail(f"{len(missing)} message(s) never reached the Firestore listener")
            try:
                self.received.append(self.updates.get(timeout=min(remaining, 0.5)))
            except queue.Empty:
                continue


@pytest.fixture
def listen_batches(
    firestore_client: firestore.Client,
) -> Iterator[Callable[[str], FirestoreBatches]]:
    """A Firestore query listener on `chats/{chat_id}/batches` ordered by last_sent_at."""
    watches: list[Any] = []

    def listen(chat_id: str) -> FirestoreBatches:
        batches = FirestoreBatches()
        ready = queue.Queue[bool]()

        def on_snapshot(_docs: Any, changes: Any, _read_time: Any) -> None:
            for change in changes:
                if change.type.name == "ADDED":
                    batches.updates.put({"id": change.document.id, **change.document.to_dict()})
            ready.put(True)

        query = (
            firestore_client.collection("chats")
            .document(chat_id)
            .collection("batches")
            .order_by("last_sent_at")
        )
        watches.append(query.on_snapshot(on_snapshot))
        # The first callback is the initial (empty) snapshot: listening from then on.
        ready.get(timeout=30)
        return batches

    yield listen
    for watch in watches:
        watch.unsubscribe()


@dataclass
class SseStream:
    """The events one SSE connection to the relay received."""

    ready: asyncio.Event = field(default_factory=asyncio.Event)
    # Set once the server ended the response (or refused it).
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    events: list[tuple[str, str]] = field(default_factory=list)
    status: int | None = None

    def batches(self) -> list[dict[str, Any]]:
        import json

        return [json.loads(data) for kind, data in self.events if kind == "batch"]

    def message_ids(self) -> list[str]:
        return [m["id"] for batch in self.batches() for m in batch["messages"]]

    async def wait_for(self, ids: set[str], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not ids <= set(self.message_ids()):
            if time.monotonic() > deadline:
                missing = ids - set(self.message_ids())
                pytest.fail(f"{len(missing)} message(s) never reached the SSE relay stream")
            await asyncio.sleep(0.1)


async def _read_sse(http: httpx.AsyncClient, url: str, token: str, stream: SseStream) -> None:
    timeout = httpx.Timeout(10.0, read=None)
    try:
        async with http.stream("GET", url, params={"access_token": token}, timeout=timeout) as r:
            stream.status = r.status_code
            if r.status_code != 200:
                stream.ready.set()
                return
            kind, data = "message", ""
            async for line in r.aiter_lines():
                if line.startswith("event:"):
                    kind = line.removeprefix("event:").strip()
                elif line.startswith("data:"):
                    data = line.removeprefix("data:").strip()
                elif line == "" and data:
                    stream.events.append((kind, data))
                    if kind == "ready":
                        stream.ready.set()
                    kind, data = "message", ""
    finally:
        stream.ended.set()


@pytest.fixture
async def open_sse(http: httpx.AsyncClient) -> AsyncIterator[Callable[..., Awaitable[SseStream]]]:
    """Opens `GET /chat/{chat_id}/events` (or, without a chat, `GET /inbox/events`) on the
    real chat-service; returns once ready."""
    tasks: list[asyncio.Task[None]] = []

    async def open_stream(chat_id: str | None, user: User) -> SseStream:
        stream = SseStream()
        url = f"{CHAT_URL}/chat/{chat_id}/events" if chat_id else f"{CHAT_URL}/inbox/events"
        tasks.append(asyncio.create_task(_read_sse(http, url, user.access_token, stream)))
        await asyncio.wait_for(stream.ready.wait(), 30)
        return stream

    yield open_stream
    for task in tasks:
        task.cancel()
    for task in tasks:
        try:
            await task
        except asyncio.CancelledError:
            pass
