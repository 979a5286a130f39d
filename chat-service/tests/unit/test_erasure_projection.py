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

PARTITION = TopicPartition("user-events", 0)


class RecordingEraser:
    def __init__(self) -> None:
        self.erased: list[uuid.UUID] = []

    async def erase(self, user_id: uuid.UUID) -> int:
        self.erased.append(user_id)
        return 0


def record(value: bytes) -> ConsumerRecord:
    return ConsumerRecord("user-events", 0, 0, 0, 0, None, value, None, 0, len(value), ())


def projection(eraser: RecordingEraser) -> ErasureProjection:
    return ErasureProjection(eraser)  # type: ignore[arg-type]


async def test_a_deletion_erases_its_user_at_once_and_holds_nothing() -> None:
    eraser = RecordingEraser()
    erasure = projection(eraser)
    user = uuid.uuid4()
    event = UserDeleted(user_id=user, deleted_at=datetime.now(UTC))
    decoded = erasure.decode(record(event.encode()))
    ledger: Ledger = OffsetLedger()
    ledger.assign(PARTITION)
    await erasure.apply(PARTITION, [(0, decoded)], ledger)
    assert eraser.erased == [user]
    assert ledger.unwritten() == [] and erasure.backlog(ledger) == 0


def test_a_record_that_is_no_user_event_is_poison() -> None:
    with pytest.raises(Poison):
        projection(RecordingEraser()).decode(record(b'{"v": 2, "type": "user.deleted"}'))


def test_a_store_that_is_down_is_transient() -> None:
    assert issubclass(StoreUnavailable, projection(RecordingEraser()).transient)
