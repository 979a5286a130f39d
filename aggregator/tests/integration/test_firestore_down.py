"""Firestore unreachable for a while: nothing written, nothing committed; then nothing lost.

The shared emulator is not stopped: the sink talks to it through a local TCP relay that
refuses connections at first (as a stopped server does) and starts relaying later.
"""

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from chat_common.waiting import wait_until_ready

EMULATOR = ("127.0.0.1", 8080)


class Relay:
    """A TCP relay to the emulator on a fixed port, started on demand."""

    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.server: asyncio.Server | None = None

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*EMULATOR)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.wait_closed(), 2)


@pytest.fixture
async def relay() -> AsyncIterator[Relay]:
    r = Relay()
    yield r
    await r.stop()


async def test_nothing_lost_or_committed_while_firestore_is_down(
    events: Any,
    batches: Any,
    chat_ids: Any,
    group_offsets: Any,
    relay: Relay,
    run_in_process: Any,
) -> None:
    chats = chat_ids(3)
    runner = await run_in_process(f"127.0.0.1:{relay.port}")
    for i in range(30):
        await events.send(chats[i % 3], ("alice", "bob")[i % 2], f"m{i}")
        await asyncio.sleep(0.02)
    await events.flush()

    async def paused_by_failing_writes() -> None:
        if not (runner.writes_failing and runner.paused):
            raise AssertionError("the loop has not yet paused on a failed write")

    # The event itself: a write failed and consumption paused (no time guessed).
    await wait_until_ready(paused_by_failing_writes, "pause on Firestore down", 30, 0.05)
    assert await batches.read(chats) == []
    committed, end = await group_offsets()
    assert (committed, end) == (0, 30), "offsets committed while nothing was written"

    await relay.start()  # Firestore is back
    docs = await batches.wait_for(chats, events.ids, timeout=30)
    counts = batches.id_counts(docs)
    assert set(counts) == events.ids and set(counts.values()) == {1}
    deadline = time.monotonic() + 10
    while (await group_offsets())[0] < 30 and time.monotonic() < deadline:
        await asyncio.sleep(0.3)
    assert await group_offsets() == (30, 30)
    assert not runner.writes_failing and not runner.paused
