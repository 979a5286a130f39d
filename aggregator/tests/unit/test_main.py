"""Liveness: /healthz fails once the consume loop has ended, without any I/O.

Only the route is exercised: the lifespan (Kafka, Firestore) is not started, so the test
puts the loops' tasks in place itself.
"""

import asyncio

import httpx
from fastapi import FastAPI

from aggregator.config import Settings
from aggregator.main import create_app
from chat_common.background import Running


async def healthz(app: FastAPI) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://aggregator") as client:
        return await client.get("/healthz")


async def test_healthz_is_ok_while_the_consume_loop_runs_and_fails_once_it_ended() -> None:
    app = create_app(Settings())
    stop = asyncio.Event()
    app.state.loops = Running([asyncio.create_task(stop.wait(), name="ConsumeLoop")])
    assert (await healthz(app)).status_code == 200

    async def crash() -> None:
        raise RuntimeError("the loop died")

    died = asyncio.create_task(crash(), name="ConsumeLoop")
    app.state.loops = Running([died])
    await asyncio.wait([died])
    assert isinstance(died.exception(), RuntimeError)
    response = await healthz(app)
    assert response.status_code == 503
    assert response.json() == {"status": "ended: ConsumeLoop"}
    stop.set()


async def test_healthz_is_ok_before_the_loop_is_started() -> None:
    assert (await healthz(create_app(Settings()))).status_code == 200
