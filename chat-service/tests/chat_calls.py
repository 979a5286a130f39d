"""Calls of the chat API that the inbox and read-mark tests share."""

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from firestore_listener import WAIT_SECONDS
from support import User


async def send(client: httpx.AsyncClient, user: User, chat_id: str, text: str) -> str:
    """POST a message; its id."""
    response = await client.post(
        f"/chat/{chat_id}/messages", json={"text": text}, headers=user.headers
    )
    assert response.status_code == 201, response.text
    message_id: str = response.json()["id"]
    return message_id


async def listed(client: httpx.AsyncClient, user: User, chat_id: str) -> dict[str, Any]:
    """The chat's item in the user's GET /chats."""
    response = await client.get("/chats", headers=user.headers)
    assert response.status_code == 200, response.text
    (item,) = [item for item in response.json()["items"] if item["id"] == chat_id]
    return dict(item)


async def until_listed(
    client: httpx.AsyncClient, user: User, chat_id: str, holds: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """GET /chats until the chat's item satisfies `holds` (the consumer applied events)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        item = await listed(client, user, chat_id)
        if holds(item):
            return item
        if time.monotonic() > deadline:
            pytest.fail(f"GET /chats never showed the expected state; last: {item}")
        await asyncio.sleep(0.1)
