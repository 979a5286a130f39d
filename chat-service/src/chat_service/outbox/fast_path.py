"""The outbox's fast path: announce a change right after the request that stored it.

A send (an edit, a delete, a read mark, an opened chat) hands its entry over in memory once
its writes are done, so events leave within milliseconds. Once Kafka acknowledged a batch,
the fast path moves both members' inbox activity (one write per chat, not per message) and
records the batch in `outbox_ack` (one write per slot), so the sweeper skips it. What the
fast path cannot announce (Kafka down, queue full, the process dying) stays in the outbox
for the sweeper (`sweeper`). It runs in chat-api, and in chat-worker for the erasures.
"""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from chat_common.contract.times import unix_micros
from chat_service.domain.errors import StoreUnavailable
from chat_service.domain.model import OutboxEntry
from chat_service.domain.ports import Publisher, RelayStore
from chat_service.metrics import EVENTS_PRODUCED
from chat_service.outbox.loop import RelayLoop

logger = logging.getLogger(__name__)

_FAST_BATCH = 500
# Inbox activity and acks are written at most this often: per chat and per slot, not per
# message or per published batch. The chat list's order lags by at most this much.
FLUSH_INTERVAL_SECONDS = 0.5


def latest_per_chat(entries: Iterable[OutboxEntry]) -> list[OutboxEntry]:
    """Each chat's newest entry: what the chat's inbox activity moves to."""
    latest: dict[uuid.UUID, OutboxEntry] = {}
    for entry in entries:
        if entry.kind is not None:  # an edit or delete is no new activity
            continue
        known = latest.get(entry.message.chat_id)
        if known is None or unix_micros(entry.message.id) > unix_micros(known.message.id):
            latest[entry.message.chat_id] = entry
    return list(latest.values())


@dataclass(eq=False)
class FastPath(RelayLoop):
    """`notify` hands an entry over; `run` publishes and writes back until `stop`."""

    repository: RelayStore
    publisher: Publisher
    queue_size: int = 10_000
    stopping: asyncio.Event = field(init=False, default_factory=asyncio.Event)
    _queue: asyncio.Queue[OutboxEntry] = field(init=False)
    # Published, not yet written back: each chat's newest entry, and the acked ids.
    _unflushed_chats: dict[uuid.UUID, OutboxEntry] = field(init=False, default_factory=dict)
    _unflushed_acks: list[uuid.UUID] = field(init=False, default_factory=list)
    _next_flush: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self._queue = asyncio.Queue(maxsize=self.queue_size)

    def notify(self, entry: OutboxEntry) -> None:
        """Hand a just-stored entry over; if the queue is full the sweeper has it."""
        if self.publisher.started:
            with contextlib.suppress(asyncio.QueueFull):
                self._queue.put_nowait(entry)

    async def step(self) -> None:
        await self.publisher.ensure_started()
        loop = asyncio.get_running_loop()
        if loop.time() >= self._next_flush:
            self._next_flush = loop.time() + FLUSH_INTERVAL_SECONDS
            await self.flush()
        batch = await self._take_batch(max(0.0, self._next_flush - loop.time()))
        if batch:
            await self._deliver(batch)

    def failed(self) -> None:
        # The outbox keeps every dropped entry; the sweeper announces it once Kafka is back.
        while not self._queue.empty():
            self._queue.get_nowait()

    async def finish(self) -> None:
        # Write back what was published, so that the sweeper does not announce it again (if
        # Cassandra refuses, it does: replays are allowed).
        with contextlib.suppress(StoreUnavailable):
            await self.flush()

    async def _take_batch(self, timeout: float) -> list[OutboxEntry]:
        """What is queued, after waiting up to `timeout` for a first entry (or `stop`)."""
        getting = asyncio.ensure_future(self._queue.get())
        stopping = asyncio.ensure_future(self.stopping.wait())
        await asyncio.wait({getting, stopping}, timeout=timeout, return_when="FIRST_COMPLETED")
        stopping.cancel()
        if not getting.done():
            getting.cancel()
            return []
        batch = [getting.result()]
        while len(batch) < _FAST_BATCH and not self._queue.empty():
            batch.append(self._queue.get_nowait())
        return batch

    async def _deliver(self, entries: Sequence[OutboxEntry]) -> None:
        """Publish; what Kafka acknowledged is written back by the next `flush`. What is
        not acknowledged (or not flushed) is announced again by the sweeper."""
        outcomes = await self.publisher.publish(entries)
        acked = [entry for entry, ok in zip(entries, outcomes, strict=True) if ok]
        EVENTS_PRODUCED.inc(len(acked))
        for entry in latest_per_chat([*acked, *self._unflushed_chats.values()]):
            self._unflushed_chats[entry.message.chat_id] = entry
        self._unflushed_acks += [entry.entry_id for entry in acked]

    async def flush(self) -> None:
        """Write both members' inbox activity of every chat published since the last
        flush (one write per member), and the acks the sweeper skips (one write per slot)."""
        chats, self._unflushed_chats = list(self._unflushed_chats.values()), {}
        acks, self._unflushed_acks = self._unflushed_acks, []
        if not (chats or acks):
            return
        try:
            await asyncio.gather(
                self.repository.touch_chats(chats), self.repository.outbox.record_acks(acks)
            )
        except StoreUnavailable:
            # Kept for the next flush (both writes are idempotent).
            for entry in latest_per_chat([*chats, *self._unflushed_chats.values()]):
                self._unflushed_chats[entry.message.chat_id] = entry
            self._unflushed_acks = acks + self._unflushed_acks
            raise
