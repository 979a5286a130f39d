"""Message ids made by the chat service, and the history bucket a message id falls in.

The time-UUID maths and the time format are the contract's (`chat_common.contract.times`).
"""

import uuid

from chat_common.contract.times import unix_micros


def new_message_id() -> uuid.UUID:
    """A fresh version-1 UUID; uuid1 keeps ids from one process strictly increasing."""
    return uuid.uuid1()


def bucket_start(value: uuid.UUID, bucket_seconds: int) -> int:
    """Start (Unix seconds) of the time bucket a message id falls in.

    Buckets are stored as their start second rather than an index, so reads never need
    the bucket size and a later change of MESSAGE_BUCKET_SECONDS keeps old data readable.
    """
    seconds = unix_micros(value) // 1_000_000
    return seconds - seconds % bucket_seconds
