"""A chat's events applied with the counts store's lookups (an in-memory ledger): an
opened chat, messages announced twice, and replays after a crash count nothing twice and
clear no preview."""

import uuid
from datetime import UTC, datetime

from inbox_fakes import MemoryLedger

from chat_common.contract.events import ChatCreated, ChatRead, MessageCreated
from chat_common.contract.times import min_time_uuid
from chat_service.domain.counting import ChatCounts, InboxEvent
from chat_service.projections.inbox.applying import ChatApplier, Event
from chat_service.projections.inbox.documents import inbox_key, receipt_key

ALICE, BOB = sorted((uuid.uuid4(), uuid.uuid4()))
CHAT = uuid.uuid4()
AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
OPENED = ChatCreated(chat_id=CHAT, members=(ALICE, BOB), created_at=AT)


def message(second: int) -> MessageCreated:
    message_id = min_time_uuid(datetime.fromtimestamp(1_700_000_000 + second, UTC))
    return MessageCreated.of(message_id, CHAT, ALICE, (ALICE, BOB), f"m{second}")


def numbered(*events: InboxEvent) -> list[Event]:
    """The events at offsets 0, 1, 2..."""
    return list(enumerate(events))


BOTH_INBOXES = [inbox_key(ALICE, CHAT), inbox_key(BOB, CHAT)]


async def test_an_opened_chat_dirties_both_inboxes_and_counts_nothing() -> None:
    ledger = MemoryLedger()
    applied = await ChatApplier(ledger).apply(CHAT, None, [(0, OPENED)])
    assert applied.state == ChatCounts(CHAT, (ALICE, BOB), applied_offset=0)
    assert applied.dirtied == [(key, 0) for key in BOTH_INBOXES]
    assert ledger.saved == applied.state


async def test_a_replay_from_the_start_after_a_crash_changes_nothing() -> None:
    first, second = message(1), message(2)
    read = ChatRead(chat_id=CHAT, user_id=BOB, members=(ALICE, BOB), up_to=first.id, read_at=AT)
    # Opened, two messages, a read, the first announced again (the relay's sweep), and
    # the chat opened again (a repeated POST /chats).
    events = numbered(OPENED, first, second, read, first, OPENED)
    ledger = MemoryLedger()
    applied = await ChatApplier(ledger).apply(CHAT, None, events)
    state = applied.state
    assert (state.unread(BOB), state.unread(ALICE), state.side(ALICE).sent) == (1, 0, 2)
    assert state.last_message is not None and state.last_message.id == second.id
    assert state.side(BOB).read_up_to == first.id
    # The repeated opening still shows the chat as it is, in both inboxes.
    assert applied.dirtied[-2:] == [(key, 5) for key in BOTH_INBOXES]
    assert (receipt_key(CHAT, BOB), 3) in applied.dirtied

    # A new process, with nothing in memory, reads everything again from offset 0.
    again = await ChatApplier(ledger).apply(CHAT, None, events)
    assert again.state == state
    assert again.dirtied == applied.dirtied


async def test_a_message_whose_count_died_before_the_save_is_counted_on_replay() -> None:
    newest, older = message(5), message(3)  # announced late: not surely new
    ledger = MemoryLedger()
    await ChatApplier(ledger).apply(CHAT, None, numbered(OPENED, newest))
    # The attempt at offset 2 recorded the message as counted, then died before saving.
    await ledger.record_counted(CHAT, [(ALICE, older.id, 2)])
    applied = await ChatApplier(ledger).apply(CHAT, None, numbered(OPENED, newest, older, older))
    # Counted once: at its own offset, not again when announced a second time at 3.
    assert (applied.state.unread(BOB), applied.state.side(ALICE).sent) == (2, 2)
    assert applied.state.applied_offset == 3


async def test_a_polls_counted_rows_are_written_together_before_the_save() -> None:
    first, second, third = message(1), message(2), message(3)
    ledger = MemoryLedger()
    # The third announced twice within the poll (a re-announce overtaking the fast path).
    events = numbered(OPENED, first, third, second, third)
    applied = await ChatApplier(ledger).apply(CHAT, None, events)
    assert ledger.writes == ["counted 3", "save"]
    assert ledger.counted == {(ALICE, first.id): 1, (ALICE, third.id): 2, (ALICE, second.id): 3}
    assert (applied.state.unread(BOB), applied.state.side(ALICE).sent) == (3, 3)


async def test_a_read_in_the_same_poll_covers_the_messages_counted_before_it() -> None:
    first, second, third = message(1), message(2), message(3)
    read = ChatRead(chat_id=CHAT, user_id=BOB, members=(ALICE, BOB), up_to=second.id, read_at=AT)
    ledger = MemoryLedger()
    events = numbered(OPENED, first, second, read, third)
    applied = await ChatApplier(ledger).apply(CHAT, None, events)
    # The rows the mark covers were written before it was applied, the rest after.
    assert ledger.writes == ["counted 2", "counted 1", "save"]
    assert (applied.state.unread(BOB), applied.state.side(BOB).read_count) == (1, 2)
