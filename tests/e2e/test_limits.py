"""Input limits and the SSE relay's caps, over HTTP on the running system (`make up`):
413 on a huge body, 422 on an escape sequence, 429 on a flood of sends, SSE streams
capped per user and closed (the listener gauge goes back down)."""

import asyncio
import re
import time
import uuid
from collections.abc import Awaitable, Callable
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
    page = await http.get(
        f"{urls.chat}/chat/{chat_id}", params={"quantity": 100}, headers=user.headers
    )
    assert page.status_code == 200, page.text
    return [item["id"] for item in page.json()["items"]]


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
        # Each open stream holds a listener once its `ready` event is out.
        for stream in streams:
            lines = stream.aiter_lines()
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
