"""Event streams follow the account (DESIGN.md "Sessions"): after its user is deleted or
logs out everywhere, an access token issued before gets 401 from both stream routes (and
the REST ones), and the streams it opened end with a `revoked` event."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from chat_common.waiting import wait_until

KAFKA = "127.0.0.1:9092"
USER_EVENTS = "user-events"
# The user event reaches every chat-api replica in about a second; generous for a busy box.
REFUSED_WITHIN = 20.0

OpenSse = Callable[..., Awaitable[Any]]


async def _streams_end_and_the_token_is_refused(
    http: httpx.AsyncClient, urls: Any, user: Any, chat_id: str, streams: list[Any]
) -> None:
    async def ended() -> bool:
        return all(s.ended.is_set() for s in streams)

    await wait_until(ended, "the user's open streams ending", REFUSED_WITHIN)
    for stream in streams:
        assert stream.events[-1][0] == "revoked", stream.events[-3:]

    async def refused() -> bool:
        answers = [
            await http.get(url, params={"access_token": user.access_token})
            for url in (f"{urls.chat}/chat/{chat_id}/events", f"{urls.chat}/inbox/events")
        ]
        answers.append(await http.get(f"{urls.chat}/chats", headers=user.headers))
        return all(a.status_code == 401 for a in answers)

    # A replica that took the request may be another than the one that ended the stream.
    await wait_until(refused, "both stream routes and REST refusing the token", REFUSED_WITHIN)


@dataclass
class Streaming:
    """A user with an open chat stream and inbox stream, and the other member's stream."""

    user: Any
    chat_id: str
    streams: list[Any]
    others: Any


@pytest.fixture
async def streaming(
    make_user: Callable[[str], Awaitable[Any]],
    open_chat: Callable[[Any, Any], Awaitable[str]],
    open_sse: OpenSse,
) -> Streaming:
    user, other = await make_user("sse"), await make_user("sseother")
    chat_id = await open_chat(user, other)
    streams = [await open_sse(chat_id, user), await open_sse(None, user)]
    return Streaming(user, chat_id, streams, await open_sse(chat_id, other))


async def test_deletion_ends_the_streams_and_refuses_the_token(
    http: httpx.AsyncClient,
    urls: Any,
    streaming: Streaming,
    delete_account: Callable[[Any], Awaitable[None]],
) -> None:
    leaver = streaming.user
    await delete_account(leaver)
    await _streams_end_and_the_token_is_refused(
        http, urls, leaver, streaming.chat_id, streaming.streams
    )
    assert not streaming.others.ended.is_set()  # the other member's stream goes on


async def test_logout_all_ends_the_streams_and_refuses_earlier_tokens(
    http: httpx.AsyncClient, urls: Any, streaming: Streaming
) -> None:
    user = streaming.user
    out = await http.post(f"{urls.auth}/auth/logout-all", headers=user.headers)
    assert out.status_code == 204, out.text
    logged_out = time.time()  # revoked_at is at or before this
    # auth-service announces it as user.sessions_revoked; chat-api's tail of user-events
    # reads it within about a second.
    await _streams_end_and_the_token_is_refused(
        http, urls, user, streaming.chat_id, streaming.streams
    )
    assert not streaming.others.ended.is_set()

    # A login after the logout-all is not refused (iat has whole seconds: the next one).
    await asyncio.sleep(max(0.0, logged_out + 1 - time.time()))
    login = await http.post(
        f"{urls.auth}/auth/login", json={"username": user.username, "password": user.password}
    )
    assert login.status_code == 200, login.text
    fresh = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert (await http.get(f"{urls.chat}/chats", headers=fresh)).status_code == 200
