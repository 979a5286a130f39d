"""The Firestore sink against the emulator, and the Firestore behaviour it relies on.

The contract tests pin down exactly what sink.py assumes, so they can be run against any
Firestore endpoint (set FIRESTORE_EMULATOR_HOST) to check the assumption still holds.
"""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from google.api_core import exceptions as gexc
from google.cloud.firestore import AsyncClient
from google.cloud.firestore_v1.base_query import FieldFilter

from aggregator.aggregation import AggregationConfig, CompletedBy, CompletedGroup, Message
from aggregator.sink import FirestoreSink, SinkUnavailable
from aggregator.slot_planner import batch_id
from chat_common.contract.documents import chat_batches
from chat_common.contract.firestore import async_firestore_client
from chat_common.contract.times import rfc3339_millis, uuid_time

WINDOW = AggregationConfig().window_start
ALICE, BOB = str(uuid.uuid4()), str(uuid.uuid4())


def batches_of(client: AsyncClient, chat_id: str):  # type: ignore[no-untyped-def]
    return client.collection(chat_batches(chat_id))


def new_chat() -> str:
    return str(uuid.uuid4())


def messages(chat_id: str, sender: str, n: int) -> list[Message]:
    """n messages of one sender, all in one window (as the aggregator's groups are)."""
    while True:
        out = []
        for i in range(n):
            mid = uuid.uuid1()
            out.append(Message(mid, chat_id, sender, f"m{i}", i, (ALICE, BOB)))
        if len({WINDOW(m.time_ms) for m in out}) == 1:
            return out


def group(msgs: list[Message], reason: CompletedBy = CompletedBy.WINDOW) -> CompletedGroup:
    first = msgs[0]
    return CompletedGroup(
        first.chat_id, first.sender_id, WINDOW(first.time_ms), tuple(msgs), reason
    )


async def all_docs(client: AsyncClient, chat_id: str) -> dict[str, dict]:  # type: ignore[type-arg]
    return {s.id: s.to_dict() async for s in batches_of(client, chat_id).stream()}


# -- contract: the Firestore behaviour the sink relies on --------------------------------


async def test_contract_create_on_taken_id_fails_and_keeps_the_document(
    firestore: AsyncClient,
) -> None:
    ref = batches_of(firestore, new_chat()).document("a")
    await ref.create({"messages": [{"id": "1"}], "count": 1})
    with pytest.raises(gexc.AlreadyExists):
        await ref.create({"messages": [{"id": "2"}], "count": 1}, retry=None, timeout=5)
    snapshot = await ref.get()
    assert snapshot.to_dict() == {"messages": [{"id": "1"}], "count": 1}


async def test_contract_batched_create_with_a_taken_id_raises_already_exists(
    firestore: AsyncClient,
) -> None:
    col = batches_of(firestore, new_chat())
    await col.document("taken").create({"x": 1})
    batch = firestore.batch()
    batch.create(col.document("free"), {"x": 2})
    batch.create(col.document("taken"), {"x": 3})
    with pytest.raises(gexc.AlreadyExists):
        await batch.commit(retry=None, timeout=5)
    # Whether "free" was applied is exactly what the sink must not depend on (the
    # emulator applies it, production does not); the taken document is never changed.
    assert (await col.document("taken").get()).to_dict() == {"x": 1}


async def test_contract_timestamp_range_query_ordered_and_limited(firestore: AsyncClient) -> None:
    col = batches_of(firestore, new_chat())
    base = datetime(2030, 1, 1, tzinfo=UTC)
    for i in range(4):
        await col.document(f"d{i}").create({"last_sent_at": base + timedelta(seconds=i)})
    query = (
        col.where(filter=FieldFilter("last_sent_at", "<=", base + timedelta(seconds=2)))
        .order_by("last_sent_at")
        .limit(2)
    )
    assert [s.id async for s in query.stream()] == ["d0", "d1"]


# -- the sink ------------------------------------------------------------------------------


async def test_one_document_per_group_with_the_design_fields(firestore: AsyncClient) -> None:
    chat = new_chat()
    alice, bob = messages(chat, ALICE, 3), messages(chat, BOB, 2)
    sink = FirestoreSink(firestore, ttl_seconds=3600)
    result = await sink.write([group(alice), group(bob, CompletedBy.EAGER)])
    assert (result.documents, result.messages) == (2, 5)
    docs = await all_docs(firestore, chat)
    a_id = batch_id(ALICE, WINDOW(alice[0].time_ms), 0)
    assert set(docs) == {a_id, batch_id(BOB, WINDOW(bob[0].time_ms), 0)}
    doc = docs[a_id]
    assert doc["chat_id"] == chat and doc["sender_id"] == ALICE and doc["count"] == 3
    assert doc["members"] == [ALICE, BOB] and doc["edits"] == doc["deletes"] == []
    assert [m["id"] for m in doc["messages"]] == [str(m.id) for m in alice]
    sent_at = rfc3339_millis(uuid_time(alice[0].id))
    assert doc["messages"][0] == {"id": str(alice[0].id), "text": "m0", "sent_at": sent_at}
    assert doc["first_sent_at"] <= doc["last_sent_at"]
    assert timedelta(seconds=3599) < doc["expire_at"] - doc["created_at"] <= timedelta(hours=1)
    assert doc["completed_by"] == "window"


async def test_redelivery_after_restart_writes_nothing_twice(firestore: AsyncClient) -> None:
    chat = new_chat()
    msgs = messages(chat, ALICE, 4)
    await FirestoreSink(firestore, 3600).write([group(msgs[:2])])
    # A restarted process (fresh memory) sees the same two again plus two more.
    restarted = FirestoreSink(firestore, 3600)
    result = await restarted.write([group(msgs)])
    assert (result.documents, result.messages) == (1, 4)  # one new document; all 4 are in
    docs = await all_docs(firestore, chat)
    window = WINDOW(msgs[0].time_ms)
    assert [m["id"] for m in docs[batch_id(ALICE, window, 1)]["messages"]] == [
        str(m.id) for m in msgs[2:]
    ]
    # And the same again: everything is known now, nothing is written.
    assert (await restarted.write([group(msgs)])).documents == 0
    assert (await FirestoreSink(firestore, 3600).write([group(msgs)])).documents == 0
    assert len(await all_docs(firestore, chat)) == 2


async def test_groups_of_one_window_in_one_flush_get_their_own_slots(
    firestore: AsyncClient,
) -> None:
    chat = new_chat()
    msgs = messages(chat, ALICE, 5)
    sink = FirestoreSink(firestore, 3600)
    # A size split and a late straggler: three groups of the same window, one flush.
    result = await sink.write(
        [group(msgs[:2], CompletedBy.SIZE), group(msgs[2:4], CompletedBy.SIZE), group(msgs[4:])]
    )
    assert (result.documents, result.messages) == (3, 5)
    window = WINDOW(msgs[0].time_ms)
    docs = await all_docs(firestore, chat)
    assert sorted(docs) == [batch_id(ALICE, window, seq) for seq in range(3)]
    assert [
        m["id"] for seq in range(3) for m in docs[batch_id(ALICE, window, seq)]["messages"]
    ] == [str(m.id) for m in msgs]
    # The next flush for that window continues after them, still in one batched commit.
    late = messages(chat, ALICE, 1)
    if WINDOW(late[0].time_ms) == window:
        assert (await sink.write([group(late)])).documents == 1
        assert batch_id(ALICE, window, 3) in await all_docs(firestore, chat)


async def test_half_applied_batch_is_resolved_exactly_once(firestore: AsyncClient) -> None:
    chat = new_chat()
    first, second = messages(chat, ALICE, 2), messages(chat, BOB, 2)
    # As if an earlier batched commit had applied only its first document.
    await FirestoreSink(firestore, 3600).write([group(first)])
    result = await FirestoreSink(firestore, 3600).write([group(first), group(second)])
    assert (result.documents, result.messages) == (1, 4)
    counts = [m["id"] for d in (await all_docs(firestore, chat)).values() for m in d["messages"]]
    assert sorted(counts) == sorted(str(m.id) for m in first + second)


async def test_racing_writers_put_each_message_in_exactly_one_document(
    firestore: AsyncClient,
) -> None:
    chat = new_chat()
    msgs = messages(chat, ALICE, 12)
    # Two processes holding overlapping groups of one window (a zombie after a rebalance).
    sinks = [FirestoreSink(firestore, 3600) for _ in range(3)]
    await asyncio.gather(
        sinks[0].write([group(msgs[:8])]),
        sinks[1].write([group(msgs[4:])]),
        sinks[2].write([group(msgs[2:10])]),
    )
    ids = [m["id"] for d in (await all_docs(firestore, chat)).values() for m in d["messages"]]
    assert sorted(ids) == sorted(str(m.id) for m in msgs)


async def test_unreachable_firestore_raises_sink_unavailable() -> None:
    client = async_firestore_client("demo-chat", "127.0.0.1:1")
    try:
        with pytest.raises(SinkUnavailable):
            await FirestoreSink(client, 3600).write([group(messages(new_chat(), ALICE, 1))])
    finally:
        client.close()


async def test_a_flush_over_firestores_500_writes_per_commit_limit(firestore: AsyncClient) -> None:
    chat = new_chat()
    groups = [group(messages(chat, str(uuid.uuid4()), 1)) for i in range(620)]
    result = await FirestoreSink(firestore, 3600).write(groups)
    assert (result.documents, result.messages) == (620, 620)
    assert len(await all_docs(firestore, chat)) == 620


async def test_a_duplicate_in_the_same_flush_gets_no_second_document(
    firestore: AsyncClient,
) -> None:
    chat = new_chat()
    first, second = messages(chat, ALICE, 2)
    # An eager message and, completed in the same flush, a group holding it again.
    result = await FirestoreSink(firestore, 3600).write(
        [group([first], CompletedBy.EAGER), group([first, second])]
    )
    assert (result.documents, result.messages) == (2, 2)
    docs = await all_docs(firestore, chat)
    window = WINDOW(first.time_ms)
    assert {doc_id: [m["id"] for m in d["messages"]] for doc_id, d in docs.items()} == {
        batch_id(ALICE, window, 0): [str(first.id)],
        batch_id(ALICE, window, 1): [str(second.id)],
    }
