"""The inbox projection with its stores in memory and the real offset ledger: what it
decodes, what it holds until written, and what a replay does (fake clock)."""

import uuid
from datetime import UTC, datetime

import pytest
from aiokafka import ConsumerRecord, TopicPartition
from inbox_fakes import MemoryFirestore, MemoryLedger

from chat_common.consume.ledger import OffsetLedger
from chat_common.consume.projection import Ledger, Poison
from chat_common.contract.documents import inbox_path
from chat_common.contract.events import ChatCreated, MessageCreated, MessageDeleted
from chat_common.contract.times import min_time_uuid
from chat_service.projections.inbox.projection import InboxProjection
from chat_service.projections.scrub import DeletedTexts, GraceRepeats

ALICE, BOB = sorted((uuid.uuid4(), uuid.uuid4()))
CHAT = uuid.uuid4()
PARTITION = TopicPartition("chat-messages", 0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def record(offset: int, value: bytes) -> ConsumerRecord:
    return ConsumerRecord(
        "chat-messages", 0, offset, 0, 0, str(CHAT).encode(), value, None, 0, len(value), ()
    )


def sent(second: int) -> MessageCreated:
    message_id = min_time_uuid(datetime.fromtimestamp(1_700_000_000 + second, UTC))
    return MessageCreated.of(message_id, CHAT, ALICE, (ALICE, BOB), f"m{second}")


def setup() -> tuple[InboxProjection, MemoryFirestore, Ledger, Clock]:
    firestore, clock = MemoryFirestore(), Clock()
    projection = InboxProjection(
        MemoryLedger(), firestore, write_interval=1.0, receipt_interval=4.0, clock=clock
    )
    ledger: Ledger = OffsetLedger()
    ledger.assign(PARTITION)
    ledger.handled(PARTITION, -1)
    return projection, firestore, ledger, clock


async def apply(
    projection: InboxProjection,
    ledger: Ledger,
    *events: ChatCreated | MessageCreated | MessageDeleted,
    start: int = 0,
) -> None:
    """Decode and apply `events` at offsets from `start`, then count them handled."""
    items = [
        (offset, projection.decode(record(offset, event.encode())))
        for offset, event in enumerate(events, start)
    ]
    await projection.apply(PARTITION, items, ledger)
    for offset, _ in items:
        ledger.handled(PARTITION, offset)


def test_a_record_that_is_no_event_is_poison() -> None:
    projection, *_ = setup()
    with pytest.raises(Poison):
        projection.decode(record(0, b'{"v": 2, "type": "message.created"}'))


async def test_documents_are_held_in_the_ledger_until_written() -> None:
    projection, firestore, ledger, _ = setup()
    opened = ChatCreated(chat_id=CHAT, members=(ALICE, BOB), created_at=datetime.now(UTC))
    await apply(projection, ledger, opened, sent(1), sent(2))
    # Both inboxes are dirty since offset 0: nothing may be committed past it.
    assert ledger.positions({PARTITION: None}) == {PARTITION: 0}
    assert projection.backlog(ledger) == 2 and projection.seconds_to_due() == 0.0
    await projection.flush(ledger, force=False)
    assert ledger.positions({PARTITION: None}) == {PARTITION: 3}
    bob = firestore.docs[inbox_path(BOB, CHAT)]
    assert (bob["unread"], bob["last_message"]["text"]) == (2, "m2")


async def test_a_busy_document_waits_for_its_interval_and_holds_its_offset() -> None:
    projection, firestore, ledger, clock = setup()
    await apply(projection, ledger, sent(1))
    await projection.flush(ledger, force=False)
    commits = firestore.commits
    await apply(projection, ledger, sent(2), start=1)
    await projection.flush(ledger, force=False)
    assert firestore.commits == commits  # written under a second ago: it waits
    assert ledger.positions({PARTITION: None}) == {PARTITION: 1}
    assert projection.seconds_to_due() == 1.0
    clock.now += 1.0
    await projection.flush(ledger, force=False)
    assert firestore.docs[inbox_path(BOB, CHAT)]["unread"] == 2
    assert ledger.positions({PARTITION: None}) == {PARTITION: 2}


async def test_a_failed_write_keeps_the_hold_and_a_replay_counts_nothing_twice() -> None:
    projection, firestore, ledger, _ = setup()
    firestore.down = True
    await apply(projection, ledger, sent(1), sent(2))
    with pytest.raises(Exception, match="Firestore is down"):
        await projection.flush(ledger, force=True)
    assert ledger.positions({PARTITION: None}) == {PARTITION: 0}
    # The partition moves to another owner, which replays it from the committed offset.
    projection.forget([PARTITION])
    ledger.revoke(PARTITION)
    ledger.assign(PARTITION)
    ledger.handled(PARTITION, -1)
    firestore.down = False
    await apply(projection, ledger, sent(1), sent(2))
    await projection.flush(ledger, force=True)
    assert firestore.docs[inbox_path(BOB, CHAT)]["unread"] == 2
    assert ledger.positions({PARTITION: None}) == {PARTITION: 2}


async def test_no_document_of_a_deleted_user_is_written_again() -> None:
    projection, firestore, ledger, _ = setup()
    projection.is_deleted = lambda user: user == ALICE
    await apply(projection, ledger, sent(1))
    await projection.flush(ledger, force=True)
    assert inbox_path(BOB, CHAT) in firestore.docs
    assert inbox_path(ALICE, CHAT) not in firestore.docs
    # Skipped, not pending: nothing is held for it.
    assert ledger.positions({PARTITION: None}) == {PARTITION: 1}


class RecordingScrubber:
    def __init__(self) -> None:
        self.scrubbed: list[tuple[uuid.UUID, frozenset[uuid.UUID]]] = []

    async def messages(self, chat_id: uuid.UUID, message_ids: frozenset[uuid.UUID]) -> None:
        self.scrubbed.append((chat_id, message_ids))


async def test_a_deletion_is_scrubbed_at_once_and_again_after_the_grace_period() -> None:
    projection, _, ledger, clock = setup()
    scrubber = RecordingScrubber()
    projection.deleted_texts = DeletedTexts(scrubber, GraceRepeats(30.0, clock))  # type: ignore[arg-type]
    first, second = sent(1), sent(2)
    gone = [
        MessageDeleted(
            id=m.id,
            chat_id=CHAT,
            sender_id=ALICE,
            members=(ALICE, BOB),
            deleted_at=datetime.now(UTC),
        )
        for m in (first, second)
    ]
    await apply(projection, ledger, first, second, *gone)
    # One scrub for the chat's deletions in these records, at once.
    assert scrubber.scrubbed == [(CHAT, frozenset({first.id, second.id}))]
    await projection.flush(ledger, force=True)
    # The inbox documents are written, but the first deletion's offset stays held.
    assert ledger.positions({PARTITION: None}) == {PARTITION: 2}
    assert projection.seconds_to_due() == 30.0
    clock.now += 30.0
    await projection.flush(ledger, force=False)
    assert len(scrubber.scrubbed) == 2 and scrubber.scrubbed[1] == scrubber.scrubbed[0]
    assert ledger.positions({PARTITION: None}) == {PARTITION: 4}
