"""Cassandra side of the counts: `chat_counts` (one row per chat) and `counted_message`.

`chat_counts` has two writers on distinct cells. The inbox consumer writes the counting
state `USING TIMESTAMP <Kafka offset + 1>`, so a write for an older offset (a replay, or a
fenced-off consumer still finishing) never overrides a newer one. `POST /chat/{id}/read`
writes `read_mark_<side>` `USING TIMESTAMP <the mark's own time>`, so an older mark loses
to a newer one whatever order they land in: forward-only without a read or a lightweight
transaction.
"""

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

from chat_common.contract.times import unix_micros
from chat_service.domain.counting import ChatCounts, LastMessage, MemberCounts
from chat_service.store.cassandra import CassandraStore
from chat_service.store.rows import utc

# Rows of `counted_message` read per round trip when a mark moves over many messages.
_RANGE_PAGE = 5000
# Rows written per request: one partition's (Cassandra holds single-partition batches to no
# size threshold); this bounds a catching-up consumer's request to some 20 KiB.
_COUNTED_BATCH = 200
_SIDES = ("low", "high")

_STATE_COLUMNS = (
    "applied_offset, member_low, member_high, last_message_id, last_sender_id, last_text, "
    "sent_low, sent_high, newest_low, newest_high, counted_mark_low, counted_mark_high, "
    "read_count_low, read_count_high, read_at_low, read_at_high"
)

COUNTS_STATEMENTS: dict[str, str] = {
    "select_counts": (
        "SELECT " + _STATE_COLUMNS + ", read_mark_low, read_mark_high "
        "FROM {keyspace}.chat_counts WHERE chat_id = ?"
    ),
    "update_counts": (
        "UPDATE {keyspace}.chat_counts USING TIMESTAMP ? SET applied_offset = ?, "
        "member_low = ?, member_high = ?, last_message_id = ?, last_sender_id = ?, "
        "last_text = ?, sent_low = ?, sent_high = ?, newest_low = ?, newest_high = ?, "
        "counted_mark_low = ?, counted_mark_high = ?, read_count_low = ?, "
        "read_count_high = ?, read_at_low = ?, read_at_high = ? WHERE chat_id = ?"
    ),
    "mark_read_low": (
        "UPDATE {keyspace}.chat_counts USING TIMESTAMP ? SET read_mark_low = ? WHERE chat_id = ?"
    ),
    "mark_read_high": (
        "UPDATE {keyspace}.chat_counts USING TIMESTAMP ? SET read_mark_high = ? WHERE chat_id = ?"
    ),
    "select_counted": (
        "SELECT counted_at_offset FROM {keyspace}.counted_message "
        "WHERE chat_id = ? AND sender_id = ? AND message_id = ?"
    ),
    "insert_counted": (
        "INSERT INTO {keyspace}.counted_message "
        "(chat_id, sender_id, message_id, counted_at_offset) VALUES (?, ?, ?, ?)"
    ),
    "select_counted_range": (
        "SELECT message_id, counted_at_offset FROM {keyspace}.counted_message "
        "WHERE chat_id = ? AND sender_id = ? AND message_id > ? AND message_id <= ? LIMIT ?"
    ),
}

# The smallest time UUID: "no mark yet" as a range bound.
_NO_MARK = uuid.UUID("00000000-0000-1000-8080-808080808080")


def _state(chat_id: uuid.UUID, row: dict[str, Any]) -> ChatCounts:
    sides = tuple(
        MemberCounts(
            sent=row[f"sent_{side}"] or 0,
            newest_sent=row[f"newest_{side}"],
            read_up_to=row[f"counted_mark_{side}"],
            read_count=row[f"read_count_{side}"] or 0,
            read_at=utc(row[f"read_at_{side}"]),
        )
        for side in _SIDES
    )
    last = (
        LastMessage(row["last_message_id"], row["last_sender_id"], row["last_text"])
        if row["last_message_id"] is not None
        else None
    )
    return ChatCounts(
        chat_id=chat_id,
        members=(row["member_low"], row["member_high"]),
        sides=(sides[0], sides[1]),
        last_message=last,
        applied_offset=row["applied_offset"],
    )


class StoredCounts:
    """A `chat_counts` row: the consumer's state (None before its first event) and the
    read marks the API recorded, as (lower member's, higher member's)."""

    def __init__(
        self, state: ChatCounts | None, marks: tuple[uuid.UUID | None, uuid.UUID | None]
    ) -> None:
        self.state = state
        self.marks = marks


class CountsStore:
    """Every query of the counts, for the consumer and for the API."""

    def __init__(self, store: CassandraStore) -> None:
        self._store = store

    async def load(self, chat_id: uuid.UUID) -> StoredCounts:
        rows = await self._store.execute("select_counts", (chat_id,))
        if not rows:
            return StoredCounts(None, (None, None))
        row = rows[0]
        state = _state(chat_id, row) if row["applied_offset"] is not None else None
        return StoredCounts(state, (row["read_mark_low"], row["read_mark_high"]))

    async def save(self, state: ChatCounts) -> None:
        """Write the state as of its applied offset (older offsets never override it)."""
        low, high = state.sides
        last = state.last_message
        await self._store.execute(
            "update_counts",
            (
                state.applied_offset + 1,
                state.applied_offset,
                state.members[0],
                state.members[1],
                last.id if last else None,
                last.sender_id if last else None,
                last.text if last else None,
                low.sent,
                high.sent,
                low.newest_sent,
                high.newest_sent,
                low.read_up_to,
                high.read_up_to,
                low.read_count,
                high.read_count,
                low.read_at,
                high.read_at,
                state.chat_id,
            ),
        )

    async def record_read_mark(
        self,
        chat_id: uuid.UUID,
        members: tuple[uuid.UUID, uuid.UUID],
        user_id: uuid.UUID,
        up_to: uuid.UUID,
    ) -> None:
        """The API's forward-only read mark (see the module docstring)."""
        name = "mark_read_low" if user_id == members[0] else "mark_read_high"
        await self._store.execute(name, (unix_micros(up_to), up_to, chat_id))

    async def counted_at(
        self, chat_id: uuid.UUID, sender_id: uuid.UUID, message_id: uuid.UUID
    ) -> int | None:
        """The offset at which a message was counted, None if it never was."""
        rows = await self._store.execute("select_counted", (chat_id, sender_id, message_id))
        return rows[0]["counted_at_offset"] if rows else None

    async def record_counted(
        self, chat_id: uuid.UUID, counted: Sequence[tuple[uuid.UUID, uuid.UUID, int]]
    ) -> None:
        """Messages counted, as (sender, message id, offset): a single-partition batch per
        sender and up to _COUNTED_BATCH rows (one request, where a row each was one per
        message)."""
        by_sender: dict[uuid.UUID, list[tuple[str, tuple[object, ...]]]] = {}
        for sender_id, message_id, offset in counted:
            by_sender.setdefault(sender_id, []).append(
                ("insert_counted", (chat_id, sender_id, message_id, offset))
            )
        await asyncio.gather(
            *(
                self._store.execute_batch(rows[start : start + _COUNTED_BATCH], logged=False)
                for rows in by_sender.values()
                for start in range(0, len(rows), _COUNTED_BATCH)
            )
        )

    async def counted_between(
        self,
        chat_id: uuid.UUID,
        sender_id: uuid.UUID,
        after: uuid.UUID | None,
        up_to: uuid.UUID,
        before_offset: int | None = None,
    ) -> int:
        """How many of `sender_id`'s counted messages are newer than `after` and at or
        below `up_to` (only those counted before `before_offset`, when given)."""
        cursor = after or _NO_MARK
        total = 0
        while True:
            rows = await self._store.execute(
                "select_counted_range", (chat_id, sender_id, cursor, up_to, _RANGE_PAGE)
            )
            total += sum(
                1
                for row in rows
                if before_offset is None or row["counted_at_offset"] < before_offset
            )
            if len(rows) < _RANGE_PAGE:
                return total
            cursor = rows[-1]["message_id"]
