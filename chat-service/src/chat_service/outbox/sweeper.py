"""The outbox sweeper (chat-worker): announce every entry the fast path did not.

Every few seconds, per shard, it reads the append-only outbox forward from the shard's
persisted watermark up to SWEEP_LAG ago, and announces every entry nobody acknowledged
(Kafka down, a full queue, a process that died after its answer), writing the entry's
history rows again first, since the send may have died before them. Nothing is deleted:
rows expire by TTL. A replay (after a restart, or a failed batch) announces an event twice;
consumers deduplicate by message id. Several workers may sweep at once: that is a replay.
"""

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from chat_common.backoff import wait_or_stop
from chat_common.contract.times import uuid_time
from chat_service.domain.errors import StoreUnavailable
from chat_service.domain.model import OutboxEntry
from chat_service.domain.ports import Publisher, RelayStore
from chat_service.metrics import EVENTS_PRODUCED, OUTBOX_ENTRIES_SWEPT, OUTBOX_UNANNOUNCED_AGE
from chat_service.outbox.fast_path import latest_per_chat
from chat_service.outbox.loop import RelayLoop
from chat_service.outbox.publisher import KafkaUnavailable
from chat_service.store.outbox import after_time, outbox_slot
from chat_service.store.schema import OUTBOX_RETENTION_SECONDS, OUTBOX_SHARDS, OUTBOX_SLOT_SECONDS

logger = logging.getLogger(__name__)

# The sweep leaves entries this young to the fast path. An entry id is made right before
# its write, which gives up after the request timeout (1.5 s), so an entry older than
# this has landed; the rest of the margin covers clock differences between instances.
SWEEP_LAG = timedelta(seconds=10)
_SWEEP_PAGE = 500


def slots_between(start: datetime, end: datetime) -> range:
    """Every outbox slot that holds entries made after `start` up to `end`."""
    return range(outbox_slot(start), outbox_slot(end) + 1, OUTBOX_SLOT_SECONDS)


@dataclass(eq=False)
class Sweeper(RelayLoop):
    """`run` sweeps every `interval` seconds until `stop`; `sweep` is one pass."""

    repository: RelayStore
    publisher: Publisher
    interval: float
    stopping: asyncio.Event = field(init=False, default_factory=asyncio.Event)
    _watermarks: dict[int, datetime] = field(init=False, default_factory=dict)
    # The oldest entry found unannounced and not yet published (None: none known).
    _oldest_unannounced: datetime | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        OUTBOX_UNANNOUNCED_AGE.set_function(self.unannounced_age)

    def unannounced_age(self) -> float:
        """Seconds since the oldest entry known to wait for its announcement (0: none).

        The sweep reads the outbox whether Kafka answers or not, so while Kafka is down
        this grows from the oldest entry it found waiting (older than SWEEP_LAG, in the
        first shard that has one); a complete sweep sets it back to 0.
        """
        oldest = self._oldest_unannounced
        return 0.0 if oldest is None else max(0.0, time.time() - oldest.timestamp())

    async def step(self) -> None:
        await self.sweep()
        await wait_or_stop(self.stopping, self.interval)

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
        self._oldest_unannounced = None
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
        oldest = uuid_time(entries[0].entry_id)
        if self._oldest_unannounced is None or oldest < self._oldest_unannounced:
            self._oldest_unannounced = oldest
        # Kafka is asked only now, so that while it is down the age above still grows.
        await self.publisher.ensure_started()
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
