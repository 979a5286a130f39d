"""The bucket index rows this process has written and Cassandra acknowledged.

A send writes its bucket's index row only while the bucket is not in here: an
acknowledged write is durable (the commit log is synced before the ack), and index rows
are never deleted or expired, so a bucket in here is indexed. The set forgets the
oldest buckets beyond its size, and another process or a restart starts empty: it can
only err towards writing a row again, never towards skipping one that is missing.
"""

import uuid
from collections import OrderedDict

# Each entry is a (chat, bucket) key of about 150 bytes: a few MiB at most. An active chat
# enters once per bucket (an hour by default), so this covers far more live chats than
# one process serves in that time.
DEFAULT_SIZE = 20_000


class IndexedBuckets:
    """A bounded set of (chat, bucket) whose index row this process wrote, oldest out."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self._size = size
        self._buckets: OrderedDict[tuple[uuid.UUID, int], None] = OrderedDict()

    def __contains__(self, key: tuple[uuid.UUID, int]) -> bool:
        return key in self._buckets

    def __len__(self) -> int:
        return len(self._buckets)

    def acknowledged(self, chat_id: uuid.UUID, bucket: int) -> None:
        """Cassandra acknowledged this process's write of the row (call only then)."""
        self._buckets[chat_id, bucket] = None
        self._buckets.move_to_end((chat_id, bucket))
        if len(self._buckets) > self._size:
            self._buckets.popitem(last=False)
