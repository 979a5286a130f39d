"""The queries of blocks: one partition per blocker (`user_block`)."""

import uuid
from datetime import UTC, datetime

from chat_service.domain.model import Block
from chat_service.store.cassandra import CassandraStore

BLOCK_STATEMENTS: dict[str, str] = {
    "insert_block": (
        "INSERT INTO {keyspace}.user_block (blocker_id, blocked_id, blocked_at) VALUES (?, ?, ?) "
        "IF NOT EXISTS"
    ),
    "delete_block": "DELETE FROM {keyspace}.user_block WHERE blocker_id = ? AND blocked_id = ?",
    "select_block": (
        "SELECT blocked_at FROM {keyspace}.user_block WHERE blocker_id = ? AND blocked_id = ?"
    ),
    "select_blocks": (
        "SELECT blocked_id, blocked_at FROM {keyspace}.user_block WHERE blocker_id = ? LIMIT ?"
    ),
}


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


class BlockRepository:
    """Who blocked whom, and since when."""

    def __init__(self, store: CassandraStore) -> None:
        self._store = store

    async def put(self, blocker: uuid.UUID, blocked: uuid.UUID, at: datetime) -> None:
        """Block from `at`; a block already there keeps its own time (blocks are rare, so
        the lightweight transaction costs little)."""
        await self._store.execute("insert_block", (blocker, blocked, at))

    async def remove(self, blocker: uuid.UUID, blocked: uuid.UUID) -> None:
        await self._store.execute("delete_block", (blocker, blocked))

    async def has(self, blocker: uuid.UUID, blocked: uuid.UUID) -> bool:
        return bool(await self._store.execute("select_block", (blocker, blocked)))

    async def list(self, blocker: uuid.UUID, limit: int) -> list[Block]:
        rows = await self._store.execute("select_blocks", (blocker, limit))
        return [Block(row["blocked_id"], _utc(row["blocked_at"])) for row in rows]
