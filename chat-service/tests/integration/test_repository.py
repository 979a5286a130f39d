"""ChatRepository's writes of the relay against real Cassandra."""

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from chat_common.contract.times import truncate_millis
from chat_service.domain import Message, OutboxEntry
from chat_service.timeuuids import bucket_start, new_message_id


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
