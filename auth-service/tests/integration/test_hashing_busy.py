"""Over HTTP: when every Argon2 slot stays busy for the bounded wait, a registration gets
503 with Retry-After and changes nothing; the held one completes."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import PASSWORD, HeldHashing, make_settings, running, unique_name

from auth_service.main import create_app


@pytest.fixture
async def one_slot(settings: Any, key_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        make_settings(key_path, ARGON2_MAX_CONCURRENCY=1, ARGON2_QUEUE_TIMEOUT_SECONDS=0.2)
    )
    async with running(app) as client:
        yield client


async def test_a_registration_that_finds_no_hashing_slot_is_503_and_stores_nothing(
    one_slot: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = HeldHashing(monkeypatch)
    first, second = unique_name(), unique_name()
    try:
        holding = asyncio.create_task(
            one_slot.post("/auth/register", json={"username": first, "password": PASSWORD})
        )
        assert await asyncio.to_thread(held.started.acquire, True, 10)  # the slot is taken
        refused = await one_slot.post(
            "/auth/register", json={"username": second, "password": PASSWORD}
        )
        assert refused.status_code == 503, refused.text
        assert int(refused.headers["Retry-After"]) >= 1
    finally:
        held.release.set()
    assert (await holding).status_code == 201
    monkeypatch.undo()  # real hashing again
    # The refused registration left no account behind: the name is still free.
    again = await one_slot.post("/auth/register", json={"username": second, "password": PASSWORD})
    assert again.status_code == 201, again.text
