"""The page walk over a chat's time buckets: any depth of history costs about the same."""

import uuid

from chat_common.contract.times import unix_micros
from chat_service.domain.model import Message
from chat_service.domain.ports import MessagePages

# A page reads this many buckets at first and doubles on each further step: one bucket
# serves a busy chat, a sparse chat reaches far back in a few round trips.
_FIRST_BUCKET_STEP = 1
_MAX_BUCKET_STEP = 16


async def read_history(
    pages: MessagePages, chat_id: uuid.UUID, before: uuid.UUID | None, quantity: int
) -> tuple[list[Message], uuid.UUID | None]:
    """Up to `quantity` messages strictly older than `before`, newest first, and the
    `time` of the next page (None when nothing older is left)."""
    wanted = quantity + 1  # one more than asked tells whether anything older is left
    # Any bucket starting at or before `before`'s second may hold older messages.
    bound = None if before is None else unix_micros(before) // 1_000_000
    collected: list[Message] = []
    step = _FIRST_BUCKET_STEP
    while len(collected) < wanted:
        buckets = await pages.list_buckets(chat_id, bound, step)
        if not buckets:
            break
        for bucket in buckets:
            # Buckets are newest first; within one, Cassandra returns newest first.
            collected += await pages.list_messages(chat_id, bucket, before, wanted - len(collected))
            if len(collected) >= wanted:
                break
        if len(buckets) < step:
            break
        bound = buckets[-1] - 1
        step = min(step * 2, _MAX_BUCKET_STEP)
    items = collected[:quantity]
    next_time = items[-1].id if len(collected) > quantity else None
    return items, next_time
