"""ChatRepository's writes of the relay against real Cassandra."""

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from cassandra.util import uuid_from_time

from chat_common.contract.times import truncate_millis
from chat_service.domain.model import Message, OutboxEntry
from chat_service.domain.timeuuids import bucket_start, new_message_id


async def test_touching_more_chats_than_one_batch_moves_every_members_activity(
    app_and_client: tuple[Any, httpx.AsyncClient],
) -> None:
    app, _ = app_and_client
    repository = app.state.chat_service.repository
    created_at = datetime.now(UTC).replace(microsecond=0)
    entries = []
    for _ in range(40):  # 80 rows: several batches
        sender, recipient, chat_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        message = Message(id=new_message_id(), chat_id=chat_id, sender_id=sender, text="t")
        bucket = bucket_start(message.id, 60)
        entries.append(OutboxEntry(new_message_id(), message, bucket, recipient, created_at))
    await repository.touch_chats(entries)
    for entry in entries:
        for user in entry.members:
            (listed,) = await repository.list_user_chats(user, None, 10)
            assert listed.chat.id == entry.message.chat_id
            assert listed.chat.members == entry.members
            assert listed.chat.created_at == created_at
            # Cassandra keeps milliseconds.
            assert listed.last_message_at == truncate_millis(entry.message.sent_at)


async def test_repairs_rewrite_history_by_partition_and_never_override_a_later_write(
    app_and_client: tuple[Any, httpx.AsyncClient],
) -> None:
    app, _ = app_and_client
    repository = app.state.chat_service.repository
    sender, recipient = uuid.uuid4(), uuid.uuid4()
    busy, spread = uuid.uuid4(), uuid.uuid4()
    created_at = datetime.now(UTC)

    def entry(chat_id: uuid.UUID, message_id: uuid.UUID, text: str) -> OutboxEntry:
        message = Message(id=message_id, chat_id=chat_id, sender_id=sender, text=text)
        bucket = bucket_start(message_id, 3600)
        return OutboxEntry(new_message_id(), message, bucket, recipient, created_at)

    # More messages in one history partition than one batch takes, and a chat whose two
    # messages lie an hour apart, in two buckets.
    many = [entry(busy, new_message_id(), f"m{n}") for n in range(60)]
    hour_ago = uuid_from_time(datetime.now(UTC) - timedelta(hours=1))
    apart = [entry(spread, hour_ago, "old"), entry(spread, new_message_id(), "new")]
    # The send's own write came after the entry was made: the repair must not undo it.
    stored = many[0].message
    await repository.store_message(replace(stored, text="as sent"), many[0].bucket)

    await repository.repair_messages(many + apart)

    (bucket,) = await repository.list_buckets(busy, None, 10)
    history = await repository.list_messages(busy, bucket, None, 100)
    assert [m.id for m in history] == [e.message.id for e in reversed(many)]
    assert history[-1].text == "as sent"
    assert [m.text for m in history[:-1]] == [f"m{n}" for n in range(59, 0, -1)]
    buckets = await repository.list_buckets(spread, None, 10)
    assert buckets == sorted({e.bucket for e in apart}, reverse=True) and len(buckets) == 2


async def test_a_bucket_indexed_once_by_this_process_lists_every_later_message(
    app_and_client: tuple[Any, httpx.AsyncClient],
) -> None:
    app, _ = app_and_client
    repository = app.state.chat_service.repository
    chat_id, sender = uuid.uuid4(), uuid.uuid4()
    sent = [Message(id=new_message_id(), chat_id=chat_id, sender_id=sender, text=f"m{n}")
            for n in range(3)]  # fmt: skip
    bucket = bucket_start(sent[0].id, 3600)
    for message in sent:  # the index row goes with the first only
        await repository.store_message(message, bucket)
    assert await repository.list_buckets(chat_id, None, 10) == [bucket]
    history = await repository.list_messages(chat_id, bucket, None, 10)
    assert [m.id for m in history] == [m.id for m in reversed(sent)]
