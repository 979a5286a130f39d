"""Input limits and the SSE relay's caps, over HTTP on the running system (`make up`):
413 on a huge body, 422 on an escape sequence, 429 on a flood of sends, SSE streams
capped per user and closed (the listener gauge goes back down)."""

import asyncio
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from chat_common.text import printable

MakeUser = Callable[[str], Awaitable[Any]]
OpenSse = Callable[..., Awaitable[Any]]
WAIT_SECONDS = 30.0
GAUGE = re.compile(r"^chat_event_streams_open (\S+)$", re.MULTILINE)


async def start_chat(http: httpx.AsyncClient, urls: Any, alice: Any, bob: Any) -> str:
    chat = await http.post(f"{urls.chat}/chats", json={"user_id": bob.id}, headers=alice.headers)
    assert chat.status_code in (200, 201), chat.text
    return str(chat.json()["id"])


async def history(http: httpx.AsyncClient, urls: Any, chat_id: str, user: Any) -> list[str]:
    """Every message id of the chat, page by page."""
    ids: list[str] = []
    params: dict[str, Any] = {"quantity": 100}
    while True:
        page = await http.get(f"{urls.chat}/chat/{chat_id}", params=params, headers=user.headers)
        assert page.status_code == 200, page.text
        ids += [item["id"] for item in page.json()["items"]]
        if page.json()["next_time"] is None:
            return ids
        params["time"] = page.json()["next_time"]


async def test_a_huge_body_is_413_and_stores_nothing(
    http: httpx.AsyncClient, urls: Any, make_user: MakeUser
) -> None:
    alice, bob = await make_user("biga"), await make_user("bigb")
    chat_id = await start_chat(http, urls, alice, bob)
    huge = {"text": "x" * 2_000_000}
    sent = await http.post(f"{urls.chat}/chat/{chat_id}/messages", json=huge, headers=alice.headers)
    assert sent.status_code == 413, sent.text
    assert await history(http, urls, chat_id, alice) == []
    registered = await http.post(
        f"{urls.auth}/auth/register",
        json={"username": "huge", "password": "p" * 8, "display_name": "x" * 2_000_000},
    )
    assert registered.status_code == 413


async def test_an_escape_sequence_is_422_and_stores_nothing(
    http: httpx.AsyncClient, urls: Any, make_user: MakeUser
) -> None:
    alice, bob = await make_user("esca"), await make_user("escb")
    chat_id = await start_chat(http, urls, alice, bob)
    for text in ("\x1b[2J\x1b[Hhi", "spoof\u202etxt.exe"):
        sent = await http.post(
            f"{urls.chat}/chat/{chat_id}/messages", json={"text": text}, headers=alice.headers
        )
        assert sent.status_code == 422, sent.text
        assert "not allowed" in sent.text
    assert await history(http, urls, chat_id, alice) == []
    registered = await http.post(
        f"{urls.auth}/auth/register",
        json={
            "username": f"esc{uuid.uuid4().hex[:10]}",
            "password": "p" * 8,
            "display_name": "\x1b[31mred",
        },
    )
    assert registered.status_code == 422
    assert printable("\x1b[2J") == "\\x1b[2J"  # what a client shows instead


async def test_a_flood_of_sends_gets_429_with_retry_after_and_loses_nothing_accepted(
    http: httpx.AsyncClient, urls: Any, make_user: MakeUser
) -> None:
    alice, bob = await make_user("flooda"), await make_user("floodb")
    chat_id = await start_chat(http, urls, alice, bob)
    gate = asyncio.Semaphore(20)

    async def send(i: int) -> httpx.Response:
        async with gate:
            return await http.post(
                f"{urls.chat}/chat/{chat_id}/messages",
                json={"text": f"flood {i}"},
                headers=alice.headers,
            )

    responses = await asyncio.gather(*(send(i) for i in range(300)))
    accepted = [r.json()["id"] for r in responses if r.status_code == 201]
    refused = [r for r in responses if r.status_code == 429]
    assert len(accepted) + len(refused) == len(responses), {r.status_code for r in responses}
    assert refused, "300 sends at once never hit the per-user rate"
    assert all(int(r.headers["retry-after"]) >= 1 for r in refused)
    # Another user is not affected by alice's flood.
    other = await http.post(
        f"{urls.chat}/chat/{chat_id}/messages", json={"text": "still fine"}, headers=bob.headers
    )
    assert other.status_code == 201, other.text
    assert set(accepted) <= set(await history(http, urls, chat_id, alice))


async def gauge(http: httpx.AsyncClient, urls: Any) -> float:
    metrics = await http.get(f"{urls.chat}/metrics")
    assert metrics.status_code == 200, "make up serves chat-service's /metrics on its port"
    found = GAUGE.search(metrics.text)
    assert found, "chat_event_streams_open is not exported"
    return float(found.group(1))


async def test_sse_streams_are_capped_per_user_and_closed_when_clients_leave(
    http: httpx.AsyncClient, urls: Any, make_user: MakeUser
) -> None:
    alice, bob = await make_user("ssea"), await make_user("sseb")
    chat_id = await start_chat(http, urls, alice, bob)
    url = f"{urls.chat}/chat/{chat_id}/events"
    params = {"access_token": alice.access_token}
    streams: list[Any] = []
    try:
        while True:  # open streams until the per-user cap answers
            request = http.build_request("GET", url, params=params, timeout=httpx.Timeout(10.0))
            response = await http.send(request, stream=True)
            if response.status_code != 200:
                break
            streams.append(response)
            assert len(streams) <= 50, "no per-user cap on SSE streams"
        assert response.status_code == 429
        assert int(response.headers["retry-after"]) >= 1
        await response.aclose()
        # Each open stream holds a listener once its `ready` event is out. The readers are
        # kept: a line iterator dropped mid-stream closes its response when collected.
        readers = [stream.aiter_lines() for stream in streams]
        for lines in readers:
            while (await asyncio.wait_for(anext(lines), WAIT_SECONDS)) != "event: ready":
                pass
        open_with_ours = await gauge(http, urls)
        assert open_with_ours >= len(streams)
    finally:
        for stream in streams:
            await stream.aclose()
    # Leaving closes every listener: the gauge goes back down, and the slots come back.
    deadline = time.monotonic() + WAIT_SECONDS
    while await gauge(http, urls) > open_with_ours - len(streams):
        assert time.monotonic() < deadline, "SSE listeners outlived their clients"
        await asyncio.sleep(0.2)
    while True:  # the slots are given back as the server notices each client leave
        again = await http.send(http.build_request("GET", url, params=params), stream=True)
        await again.aclose()
        if again.status_code == 200:
            break
        assert again.status_code == 429, again.status_code
        assert time.monotonic() < deadline, "SSE stream slots were never given back"
        await asyncio.sleep(0.2)


@pytest.mark.parametrize("path", ["/readyz", "/readyz/serving"])
async def test_readiness_reports_kafka(http: httpx.AsyncClient, urls: Any, path: str) -> None:
    ready = await http.get(f"{urls.chat}{path}")
    assert ready.status_code == 200, ready.text
    assert set(ready.json()["checks"]) >= {"cassandra", "kafka"}


async def test_a_resumed_stream_gets_a_batch_written_late_with_an_earlier_last_sent_at(
    http: httpx.AsyncClient, urls: Any, make_user: MakeUser, firestore_client: Any
) -> None:
    alice, bob = await make_user("resa"), await make_user("resb")
    chat_id = await start_chat(http, urls, alice, bob)
    cursor = datetime.now(UTC)
    stamp = cursor.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    request = http.build_request(
        "GET",
        f"{urls.chat}/chat/{chat_id}/events",
        params={"access_token": bob.access_token, "since": stamp},
        timeout=httpx.Timeout(10.0, read=WAIT_SECONDS),
    )
    stream = await http.send(request, stream=True)
    try:
        assert stream.status_code == 200
        lines = stream.aiter_lines()
        while (await asyncio.wait_for(anext(lines), WAIT_SECONDS)) != "event: ready":
            pass
        # A window batch completed after the cursor's batch: its messages are older.
        late_at = cursor - timedelta(seconds=2)
        message_id = str(uuid.uuid1())
        await asyncio.to_thread(
            firestore_client.collection("chats")
            .document(chat_id)
            .collection("batches")
            .document(f"{alice.id}_{int(late_at.timestamp() * 1000)}_0")
            .create,
            {
                "chat_id": chat_id,
                "sender_id": alice.id,
                "members": [alice.id, bob.id],
                "messages": [{"id": message_id, "text": "late", "sent_at": stamp}],
                "count": 1,
                "first_sent_at": late_at,
                "last_sent_at": late_at,
                "created_at": datetime.now(UTC),
                "expire_at": cursor + timedelta(days=1),
            },
        )
        while message_id not in await asyncio.wait_for(anext(lines), WAIT_SECONDS):
            pass
    finally:
        await stream.aclose()
