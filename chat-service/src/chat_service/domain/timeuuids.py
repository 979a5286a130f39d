"""Message ids made by the chat service, and the history bucket a message id falls in.

The time-UUID maths and the time format are the contract's (`chat_common.contract.times`).
"""

import os
import uuid

from chat_common.contract.times import unix_micros

# RFC 4122 asks a node that is no hardware address to have the multicast bit set.
_MULTICAST_BIT = 1 << 40


def _draw_node() -> tuple[int, int]:
    """A random node and clock sequence: what keeps two processes' ids apart."""
    node = int.from_bytes(os.urandom(6), "big") | _MULTICAST_BIT
    return node, int.from_bytes(os.urandom(2), "big") & 0x3FFF


_node, _clock_seq = _draw_node()


def _redraw_node_in_child() -> None:
    global _node, _clock_seq
    _node, _clock_seq = _draw_node()


# A forked child must not make its parent's ids.
os.register_at_fork(after_in_child=_redraw_node_in_child)


def new_message_id() -> uuid.UUID:
    """A fresh version-1 UUID, strictly increasing within the process.

    Node and clock sequence are this process's own, which makes uuid1 take its Python
    path: libuuid's "safe" generator, used otherwise, opens a socket to the uuidd daemon
    on every call (three system calls, 4-5 times the cost; a send makes two ids).
    """
    return uuid.uuid1(_node, _clock_seq)


def bucket_start(value: uuid.UUID, bucket_seconds: int) -> int:
    """Start (Unix seconds) of the time bucket a message id falls in.

    Buckets are stored as their start second rather than an index, so reads never need
    the bucket size and a later change of MESSAGE_BUCKET_SECONDS keeps old data readable.
    """
    seconds = unix_micros(value) // 1_000_000
    return seconds - seconds % bucket_seconds
