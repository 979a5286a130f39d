"""The outbox relay: announces stored messages on Kafka, then clears their outbox rows.

Two paths feed it. The fast path: a send hands its message over in memory right after
the logged batch, so events leave within milliseconds. The sweep: every few seconds the
relay reads the outbox itself and announces whatever the fast path could not (Kafka
down, queue full, process restarted). A row is deleted only after Kafka acknowledged its
event, so nothing stored misses Kafka; a crash between the two re-announces it (allowed:
consumers deduplicate by message id).
"""

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from chat_service.events import EventPublisher, KafkaUnavailable
from chat_service.exceptions import StoreUnavailable
from chat_service.metrics import EVENTS_PRODUCED, OUTBOX_ROWS_CLEARED
from chat_service.models import Message
from chat_service.repository import OUTBOX_SHARDS, ChatRepository

logger = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The sweep leaves rows this young to the fast path, so it does not announce them twice.
_FAST_PATH_GRACE = timedelta(seconds=5)
# A sweep resumes this far behind where the last clean pass ended: covers writes that
# land a little after their id was made and small clock differences between instances.
_WATERMARK_MARGIN = timedelta(seconds=30)
# Now and then the sweep starts from the beginning, as a net under the watermark.
_FULL_SWEEP_EVERY_SECONDS = 300.0
_SWEEP_PAGE = 500
_FAST_BATCH = 500
# Backoff while Kafka or Cassandra is down: quick to notice a return, quiet meanwhile.
_FIRST_RETRY_SECONDS = 0.5
_MAX_RETRY_SECONDS = 4.0


class OutboxRelay:
    """Background task of the lifespan; `notify` is the fast path, `run` the loop."""

    def __init__(
        self,
        repository: ChatRepository,
        publisher: EventPublisher,
        sweep_interval: float,
        queue_size: int = 10_000,
    ) -> None:
        self._repository = repository
        self._publisher = publisher
        self._sweep_interval = sweep_interval
        self._queue: asyncio.Queue[Message] = asyncio.Queue(maxsize=queue_size)
        self._queued: set[uuid.UUID] = set()
        self._watermarks: dict[int, datetime] = {}
        self._last_full_sweep = time.monotonic()
        self._stopping = asyncio.Event()

    def notify(self, message: Message) -> None:
        """Hand a just-stored message to the relay; if the queue is full the sweep has it."""
        if not self._publisher.started:
            return
        try:
            self._queue.put_nowait(message)
        except asyncio.QueueFull:
            return
        self._queued.add(message.id)

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        """Publish until `stop`; every failure is logged and retried, never fatal."""
        next_sweep = 0.0
        retry = _FIRST_RETRY_SECONDS
        while not self._stopping.is_set():
            try:
                await self._publisher.ensure_started()
                if time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + self._sweep_interval
                    await self._sweep_keeping_fast_path()
                batch = await self._take_batch(max(0.0, next_sweep - time.monotonic()))
                if batch:
                    await self._deliver(batch)
                retry = _FIRST_RETRY_SECONDS
            except (KafkaUnavailable, StoreUnavailable) as exc:
                logger.warning("outbox relay waiting %.1fs: %s", retry, exc)
                self._drop_queue()
                await self._pause(retry)
                retry = min(retry * 2, _MAX_RETRY_SECONDS)
            except Exception:
                # A bug must not silence the realtime path for the life of the process:
                # the outbox still holds every row, so log loudly and go on.
                logger.exception("outbox relay failed; retrying in %.1fs", _MAX_RETRY_SECONDS)
                self._drop_queue()
                await self._pause(_MAX_RETRY_SECONDS)

    async def _sweep_keeping_fast_path(self) -> None:
        # A sweep that Cassandra refuses (a timeout, a partition heavy with tombstones) must
        # not hold up the messages handed over in memory: their rows are still written and
        # deletable. If Cassandra is really down, delivering them fails too and the loop
        # backs off as usual.
        try:
            await self.sweep()
        except StoreUnavailable as exc:
            logger.warning("outbox sweep failed, fast path goes on: %s", exc)

    async def sweep(self) -> int:
        """Announce every outbox row the fast path left behind; how many were announced."""
        if time.monotonic() - self._last_full_sweep >= _FULL_SWEEP_EVERY_SECONDS:
            self._watermarks.clear()
            self._last_full_sweep = time.monotonic()
        announced = 0
        for shard in range(OUTBOX_SHARDS):
            announced += await self._sweep_shard(shard)
        return announced

    async def _sweep_shard(self, shard: int) -> int:
        upper = datetime.now(UTC) - _FAST_PATH_GRACE
        after = self._watermarks.get(shard, _EPOCH)
        announced = 0
        while True:
            rows = await self._repository.pending_outbox(shard, after, _SWEEP_PAGE)
            young = [row for row in rows if row.sent_at > upper or row.id in self._queued]
            young_ids = {row.id for row in young}
            due = [row for row in rows if row.id not in young_ids]
            acked = await self._deliver(due)
            announced += acked
            if acked < len(due):
                # Keep the oldest unannounced row inside the next sweep's window.
                failed = min(row.sent_at for row in due)
                self._watermarks[shard] = min(failed, after) - timedelta(milliseconds=1)
                raise KafkaUnavailable("Kafka did not acknowledge outbox events")
            if len(rows) < _SWEEP_PAGE or young:
                break
            after = rows[-1].sent_at - timedelta(milliseconds=1)
        self._watermarks[shard] = min([upper, *(row.sent_at for row in young)]) - _WATERMARK_MARGIN
        return announced

    async def _take_batch(self, timeout: float) -> list[Message]:
        try:
            first = await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return []
        batch = [first]
        while len(batch) < _FAST_BATCH and not self._queue.empty():
            batch.append(self._queue.get_nowait())
        return batch

    async def _deliver(self, messages: Sequence[Message]) -> int:
        """Publish, then delete the acknowledged rows; how many were acknowledged."""
        if not messages:
            return 0
        try:
            outcomes = await self._publisher.publish(messages)
        finally:
            for message in messages:
                self._queued.discard(message.id)
        acked = [message for message, ok in zip(messages, outcomes, strict=True) if ok]
        EVENTS_PRODUCED.inc(len(acked))
        await asyncio.gather(*(self._repository.delete_outbox(message) for message in acked))
        OUTBOX_ROWS_CLEARED.inc(len(acked))
        return len(acked)

    def _drop_queue(self) -> None:
        # The outbox keeps every dropped message; the sweep announces it once Kafka is back.
        while not self._queue.empty():
            self._queued.discard(self._queue.get_nowait().id)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
