"""The erasure projection: what it takes from `user-events` and what it does with it."""

import uuid
from datetime import UTC, datetime

import pytest
from aiokafka import ConsumerRecord, TopicPartition

from chat_common.consume.ledger import OffsetLedger
from chat_common.consume.projection import Ledger, Poison
from chat_common.contract.events import UserDeleted
from chat_service.domain.errors import StoreUnavailable
from chat_service.projections.erasure import ErasureProjection
from chat_service.projections.scrub import GraceRepeats

PARTITION = TopicPartition("user-events", 0)


GRACE = 30.0


class RecordingEraser:
    def __init__(self) -> None:
        self.erased: list[tuple[uuid.UUID, bool]] = []

    async def erase(self, user_id: uuid.UUID, again: bool = False) -> int:
        self.erased.append((user_id, again))
        return 0


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def record(value: bytes) -> ConsumerRecord:
    return ConsumerRecord("user-events", 0, 0, 0, 0, None, value, None, 0, len(value), ())


def projection(eraser: RecordingEraser, clock: FakeClock | None = None) -> ErasureProjection:
    repeats = GraceRepeats(GRACE, clock or FakeClock())
    return ErasureProjection(eraser, repeats)  # type: ignore[arg-type]


async def test_a_deletion_erases_at_once_and_again_after_the_grace_period() -> None:
    eraser, clock = RecordingEraser(), FakeClock()
    erasure = projection(eraser, clock)
    user = uuid.uuid4()
    event = UserDeleted(user_id=user, deleted_at=datetime.now(UTC))
    decoded = erasure.decode(record(event.encode()))
    ledger: Ledger = OffsetLedger()
    ledger.assign(PARTITION)
    ledger.handled(PARTITION, 7)
    await erasure.apply(PARTITION, [(7, decoded)], ledger)
    assert eraser.erased == [(user, False)]
    # Until the second pass, the event's offset is not committed: a crash replays it.
    assert erasure.backlog(ledger) == 1 and ledger.positions({}) == {PARTITION: 7}
    assert erasure.seconds_to_due() == GRACE
    clock.now += GRACE - 1
    await erasure.flush(ledger, force=True)  # not hurried: still held
    assert eraser.erased == [(user, False)] and erasure.backlog(ledger) == 1
    clock.now += 1
    await erasure.flush(ledger, force=False)
    assert eraser.erased == [(user, False), (user, True)]
    assert erasure.backlog(ledger) == 0 and ledger.positions({}) == {PARTITION: 8}


async def test_a_revoked_partition_forgets_its_repeats() -> None:
    eraser, clock = RecordingEraser(), FakeClock()
    erasure = projection(eraser, clock)
    ledger: Ledger = OffsetLedger()
    ledger.assign(PARTITION)
    await erasure.apply(PARTITION, [(0, uuid.uuid4())], ledger)
    erasure.forget([PARTITION])
    clock.now += GRACE
    await erasure.flush(ledger, force=False)
    assert len(eraser.erased) == 1 and erasure.seconds_to_due() is None


def test_a_record_that_is_no_user_event_is_poison() -> None:
    with pytest.raises(Poison):
        projection(RecordingEraser()).decode(record(b'{"v": 2, "type": "user.deleted"}'))


def test_a_store_that_is_down_is_transient() -> None:
    assert issubclass(StoreUnavailable, projection(RecordingEraser()).transient)
