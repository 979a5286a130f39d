import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chat_cli.models import Message
from chat_cli.timeline import Batch, Timeline, parse_before, time_key
from chat_common.contract.documents import BatchDocument, BatchMessage
from chat_common.contract.times import UUID_EPOCH_OFFSET, min_time_uuid

CHAT = str(uuid.uuid4())
# Far after every message time used below (micros near 0 are 1970).
NOW = 2_000_000_000.0


def tuuid(micros: int, node: int = 1) -> str:
    """A version-1 UUID at `micros` since 1970 (like the chat service's ids)."""
    ticks = micros * 10 + UUID_EPOCH_OFFSET
    fields = (ticks & 0xFFFFFFFF, (ticks >> 32) & 0xFFFF, ((ticks >> 48) & 0x0FFF) | 0x1000)
    return str(uuid.UUID(fields=(*fields, 0x80, 0, node)))


USERS = {name: str(uuid.uuid4()) for name in ("s", "A", "B")}


def msg(micros: int, text: str = "x", sender: str = "s") -> Message:
    return Message(id=tuuid(micros), chat_id=CHAT, sender_id=USERS[sender], text=text, sent_at="t")


def document(*messages: Message, completed_by: str | None = None) -> BatchDocument:
    sender = uuid.UUID(messages[0].sender_id)
    return BatchDocument.of(
        chat_id=uuid.UUID(CHAT),
        sender_id=sender,
        members=(sender, uuid.uuid4()),
        messages=[BatchMessage.of(uuid.UUID(m.id), m.text) for m in messages],
        created_at=datetime.now(UTC),
        ttl=timedelta(hours=1),
        completed_by=completed_by,
    )


def batch(*messages: Message, doc_id: str = "b") -> Batch:
    return Batch.from_document(doc_id, document(*messages).to_firestore())


def test_time_key_orders_by_uuid_time_not_by_string() -> None:
    # The string of a v1 UUID starts with time_low, which wraps: string order is wrong.
    early, late = tuuid(1_700_000_000_000_000), tuuid(1_700_000_500_000_000)
    assert time_key(early) < time_key(late)


def test_history_is_printed_oldest_first_and_remembered() -> None:
    timeline = Timeline()
    page = [msg(300, "c"), msg(200, "b"), msg(100, "a")]  # newest first, as the API pages
    assert [m.text for m in timeline.add_history(page)] == ["a", "b", "c"]
    assert timeline.seen == {m.id for m in page}


def test_batches_skip_what_history_printed_and_what_is_older_than_it() -> None:
    timeline = Timeline()
    timeline.add_history([msg(300, "c"), msg(200, "b")])
    older = msg(100, "a")  # belongs to an older page: not printed after the page
    fresh = timeline.add_batches([batch(older, msg(200, "b"), msg(300, "c"), msg(400, "d"))], NOW)
    assert [m.text for m in fresh] == ["d"]


def test_a_message_in_two_batches_is_printed_once() -> None:
    timeline = Timeline()
    d = msg(400, "d")
    first = timeline.add_batches([batch(d, doc_id="1"), batch(d, doc_id="2")], NOW)
    again = timeline.add_batches([batch(d, doc_id="3")], NOW)
    assert [m.text for m in first] == ["d"]
    assert again == []


def test_batches_of_two_senders_are_merged_in_time_order() -> None:
    timeline = Timeline()
    a = batch(msg(100, "a1", "A"), msg(300, "a2", "A"), doc_id="A")
    b = batch(msg(200, "b1", "B"), doc_id="B")
    assert [m.text for m in timeline.add_batches([b, a], NOW)] == ["a1", "b1", "a2"]


def test_empty_history_lets_every_batch_through() -> None:
    timeline = Timeline()
    assert timeline.add_history([]) == []
    assert [m.text for m in timeline.add_batches([batch(msg(1, "z"))], NOW)] == ["z"]


def test_batch_document_fields_are_read() -> None:
    m = Message(
        id=str(min_time_uuid(datetime(2024, 1, 1, 0, 0, 0, 7500, tzinfo=UTC))),
        chat_id=CHAT,
        sender_id=USERS["s"],
        text="hi",
        sent_at="",
    )
    parsed = Batch.from_document("S_0_0", document(m, completed_by="eager").to_firestore())
    assert parsed.id == "S_0_0"
    assert parsed.count == 1
    assert parsed.completed_by == "eager"
    assert (parsed.chat_id, parsed.sender_id) == (CHAT, USERS["s"])
    assert parsed.messages[0].sender_id == USERS["s"]
    assert parsed.messages[0].sent_at == "2024-01-01T00:00:00.007Z"


def test_before_an_iso_time_sorts_before_every_message_of_that_instant() -> None:
    micros = 1_740_832_215_123_456
    before = parse_before("2025-03-01T12:30:15.123456Z")
    assert (uuid.UUID(before).time - UUID_EPOCH_OFFSET) // 10 == micros
    assert time_key(before) <= time_key(tuuid(micros, node=0))
    assert time_key(before) < time_key(tuuid(micros + 1))


def test_parse_before_accepts_a_time_uuid_or_an_iso_time() -> None:
    page_time = tuuid(1_700_000_000_000_000)
    assert parse_before(page_time.upper()) == page_time
    naive = parse_before("2025-03-01T12:30:15")
    assert naive == parse_before("2025-03-01T12:30:15Z")
    assert naive == str(min_time_uuid(datetime(2025, 3, 1, 12, 30, 15, tzinfo=UTC)))


@pytest.mark.parametrize("value", ["yesterday", str(uuid.uuid4())])
def test_parse_before_refuses_other_values(value: str) -> None:
    with pytest.raises(ValueError):
        parse_before(value)


def test_held_messages_are_released_in_send_order_once_their_hold_has_passed() -> None:
    timeline = Timeline(hold_seconds=2.0)
    base = 1_700_000_000_000_000  # micros
    # Alice's first message comes at once (eager); Bob's, sent 0.3 s later, comes next;
    # Alice's burst (sent in between) only when her window closes.
    eager = msg(base, "a0", "A")
    assert timeline.add_batches([batch(eager)], now=1_700_000_000.1) == []
    assert timeline.add_batches([batch(msg(base + 300_000, "b0", "B"))], 1_700_000_000.4) == []
    assert [m.text for m in timeline.release(1_700_000_002.0)] == ["a0"]
    burst = batch(msg(base + 100_000, "a1", "A"), msg(base + 200_000, "a2", "A"))
    released = timeline.add_batches([burst], now=1_700_000_002.25)
    assert [m.text for m in released] == ["a1", "a2"]
    assert [m.text for m in timeline.release(1_700_000_002.3)] == ["b0"]
    assert timeline.pending == []


def test_flush_releases_everything_held() -> None:
    timeline = Timeline(hold_seconds=60)
    timeline.add_batches([batch(msg(2, "b")), batch(msg(1, "a"))], now=0.0)
    assert [m.text for m in timeline.flush()] == ["a", "b"]
    assert timeline.flush() == []
