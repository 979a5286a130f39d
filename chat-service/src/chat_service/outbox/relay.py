"""The outbox relay: announces stored messages on Kafka.

Two paths feed it. The fast path: a send hands its entry over in memory right after its
writes, so events leave within milliseconds; once Kafka acknowledged a batch, the relay
moves both members' inbox activity (one write per chat, not per message) and records the
batch in `outbox_ack` (one write per slot). The sweep: every few seconds, per shard, the
relay reads the append-only outbox forward from the shard's persisted watermark up to
SWEEP_LAG ago, and announces every entry nobody acknowledged (Kafka down, queue full, a
process that died after its answer), writing the entry's history rows again first, since
the send may have died before them. Nothing is deleted: rows expire by TTL. A replay
(after a restart, or a failed batch) announces an event twice; consumers deduplicate by
message id.
"""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from chat_common.backoff import Backoff, wait_or_stop
from chat_common.contract.times import unix_micros
from chat_service.domain.errors import StoreUnavailable
from chat_service.domain.model import OutboxEntry
from chat_service.domain.ports import Publisher, RelayStore
from chat_service.metrics import EVENTS_PRODUCED, OUTBOX_ENTRIES_SWEPT
from chat_service.outbox.publisher import KafkaUnavailable
from chat_service.store.outbox import after_time, outbox_slot
from chat_service.store.schema import OUTBOX_RETENTION_SECONDS, OUTBOX_SHARDS, OUTBOX_SLOT_SECONDS

logger = logging.getLogger(__name__)

# The sweep leaves entries this young to the fast path. An entry id is made right before
# its write, which gives up after the request timeout (1.5 s), so an entry older than
# this has landed; the rest of the margin covers clock differences between instances.
SWEEP_LAG = timedelta(seconds=10)
_SWEEP_PAGE = 500
_FAST_BATCH = 500
# Inbox activity and fast-path acks are written at most this often: per chat and per slot,
# not per message or per published batch. The inbox lags by at most this much.
FLUSH_INTERVAL_SECONDS = 0.5
# Backoff while Kafka or Cassandra is down: quick to notice a return, quiet meanwhile.
_FIRST_RETRY_SECONDS = 0.5
_MAX_RETRY_SECONDS = 4.0


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


def slots_between(start: datetime, end: datetime) -> range:
    """Every outbox slot that holds entries made after `start` up to `end`."""
    return range(outbox_slot(start), outbox_slot(end) + 1, OUTBOX_SLOT_SECONDS)


@dataclass(eq=False)
class OutboxRelay:
    """Background task of the lifespan; `notify` is the fast path, `run` the loop."""

    repository: RelayStore
    publisher: Publisher
    sweep_interval: float
    queue_size: int = 10_000
    _queue: asyncio.Queue[OutboxEntry] = field(init=False)
    _watermarks: dict[int, datetime] = field(init=False, default_factory=dict)
    _stopping: asyncio.Event = field(init=False, default_factory=asyncio.Event)
    # Published, not yet written back: each chat's newest entry, and the acked ids.
    _unflushed_chats: dict[uuid.UUID, OutboxEntry] = field(init=False, default_factory=dict)
    _unflushed_acks: list[uuid.UUID] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self._queue = asyncio.Queue(maxsize=self.queue_size)

    def notify(self, entry: OutboxEntry) -> None:
        """Hand a just-stored entry to the relay; if the queue is full the sweep has it."""
        if self.publisher.started:
            with contextlib.suppress(asyncio.QueueFull):
                self._queue.put_nowait(entry)

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        """Publish until `stop`; every failure is logged and retried, never fatal."""
        loop = asyncio.get_running_loop()
        next_sweep = next_flush = 0.0
        backoff = Backoff(_FIRST_RETRY_SECONDS, _MAX_RETRY_SECONDS)
        while not self._stopping.is_set():
            try:
                await self.publisher.ensure_started()
                if loop.time() >= next_sweep:
                    next_sweep = loop.time() + self.sweep_interval
                    await self._sweep_keeping_fast_path()
                if loop.time() >= next_flush:
                    next_flush = loop.time() + FLUSH_INTERVAL_SECONDS
                    await self.flush()
                batch = await self._take_batch(max(0.0, min(next_sweep, next_flush) - loop.time()))
                if batch:
                    await self._deliver(batch)
                backoff.succeeded()
            except (KafkaUnavailable, StoreUnavailable) as exc:
                retry = backoff.failed()
                logger.warning("outbox relay waiting %.1fs: %s", retry, exc)
                self._drop_queue()
                await wait_or_stop(self._stopping, retry)
            except Exception:
                # A bug must not silence the realtime path for the life of the process:
                # the outbox still holds every entry, so log loudly and go on.
                logger.exception("outbox relay failed; retrying in %.1fs", _MAX_RETRY_SECONDS)
                self._drop_queue()
                await wait_or_stop(self._stopping, _MAX_RETRY_SECONDS)
        # Stopping: write back what was published, so that the next process does not
        # announce it again (if Cassandra refuses, it does: replays are allowed).
        with contextlib.suppress(StoreUnavailable):
            await self.flush()

    async def _sweep_keeping_fast_path(self) -> None:
        # A sweep that Cassandra refuses must not hold up the entries handed over in
        # memory. If Cassandra is really down, delivering them fails too and the loop
        # backs off as usual.
        try:
            await self.sweep()
        except StoreUnavailable as exc:
            logger.warning("outbox sweep failed, fast path goes on: %s", exc)

    async def sweep(self) -> int:
        """Announce every entry up to SWEEP_LAG ago that nobody acknowledged; how many.

        Each shard is swept on its own: one whose reads fail keeps its watermark and is
        retried next time, while the others go on. Kafka failing stops the sweep.
        """
        upper = datetime.now(UTC) - SWEEP_LAG
        starts: dict[int, datetime] = {}
        for shard in range(OUTBOX_SHARDS):
            with self._shard_failures(shard):
                starts[shard] = await self._watermark(shard)
        due_starts = {shard: start for shard, start in starts.items() if start < upper}
        if not due_starts:
            return 0
        acked = await self._acked_since(min(due_starts.values()), upper)
        announced = 0
        for shard, start in due_starts.items():
            with self._shard_failures(shard):
                announced += await self._sweep_shard(shard, start, upper, acked)
        return announced

    @staticmethod
    @contextlib.contextmanager
    def _shard_failures(shard: int) -> Iterator[None]:
        """Log what fails one shard and go on with the next; Kafka down stops them all."""
        try:
            yield
        except KafkaUnavailable:
            raise
        except StoreUnavailable as exc:
            logger.warning("outbox shard %d not swept: %s", shard, exc)
        except Exception:
            logger.exception("outbox shard %d not swept", shard)

    async def _watermark(self, shard: int) -> datetime:
        known = self._watermarks.get(shard)
        if known is None:
            known = await self.repository.outbox.get_watermark(shard)
            if known is None:
                # The migration records one per shard; without it, read all that is kept.
                logger.warning("outbox shard %d has no watermark; reading it whole", shard)
                known = datetime.now(UTC) - timedelta(seconds=OUTBOX_RETENTION_SECONDS)
            self._watermarks[shard] = known
        return known

    async def _acked_since(self, start: datetime, upper: datetime) -> set[uuid.UUID]:
        acked: set[uuid.UUID] = set()
        for slot in slots_between(start, upper):
            cursor = after_time(start)
            while True:
                page = await self.repository.outbox.acks(slot, cursor, upper, _SWEEP_PAGE)
                acked.update(page)
                if len(page) < _SWEEP_PAGE:
                    break
                cursor = page[-1]
        return acked

    async def _sweep_shard(
        self, shard: int, start: datetime, upper: datetime, acked: set[uuid.UUID]
    ) -> int:
        announced = 0
        for slot in slots_between(start, upper):
            cursor = after_time(start)
            while True:
                page = await self.repository.outbox.page(shard, slot, cursor, upper, _SWEEP_PAGE)
                due = [entry for entry in page if entry.entry_id not in acked]
                if due:
                    await self._repair_and_publish(due)
                    announced += len(due)
                if len(page) < _SWEEP_PAGE:
                    break
                cursor = page[-1].entry_id
        await self.repository.outbox.set_watermark(shard, upper)
        self._watermarks[shard] = upper
        return announced

    async def _repair_and_publish(self, entries: Sequence[OutboxEntry]) -> None:
        # The send may have died between its outbox row and its history rows.
        # Edits and deletes are stored before their outbox row: nothing to repair.
        await self.repository.repair_messages([entry for entry in entries if entry.kind is None])
        outcomes = await self.publisher.publish(entries)
        acked = [entry for entry, ok in zip(entries, outcomes, strict=True) if ok]
        EVENTS_PRODUCED.inc(len(acked))
        OUTBOX_ENTRIES_SWEPT.inc(len(acked))
        await self.repository.touch_chats(latest_per_chat(acked))
        if len(acked) < len(entries):
            raise KafkaUnavailable("Kafka did not acknowledge outbox events")

    async def _take_batch(self, timeout: float) -> list[OutboxEntry]:
        """What is queued, after waiting up to `timeout` for a first entry (or `stop`)."""
        getting = asyncio.ensure_future(self._queue.get())
        stopping = asyncio.ensure_future(self._stopping.wait())
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
        not acknowledged (or not flushed) is announced again by the sweep."""
        outcomes = await self.publisher.publish(entries)
        acked = [entry for entry, ok in zip(entries, outcomes, strict=True) if ok]
        EVENTS_PRODUCED.inc(len(acked))
        for entry in latest_per_chat([*acked, *self._unflushed_chats.values()]):
            self._unflushed_chats[entry.message.chat_id] = entry
        self._unflushed_acks += [entry.entry_id for entry in acked]

    async def flush(self) -> None:
        """Write both members' inbox activity of every chat published since the last
        flush (one write per member), and the acks the sweep skips (one write per slot)."""
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

    def _drop_queue(self) -> None:
        # The outbox keeps every dropped entry; the sweep announces it once Kafka is back.
        while not self._queue.empty():
            self._queue.get_nowait()
