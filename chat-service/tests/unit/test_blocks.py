"""Blocks' rules and their per-replica memory, on an in-memory store and a fake clock."""

import uuid
from datetime import UTC, datetime

import pytest

from chat_service.domain.blocks import Blocks
from chat_service.domain.errors import Blocked, BlockSelf, UserNotFound
from chat_service.domain.model import Block, Chat, chat_id_for


class MemoryBlocks:
    def __init__(self) -> None:
        self.rows: dict[tuple[uuid.UUID, uuid.UUID], datetime] = {}
        self.reads = 0

    async def put(self, blocker: uuid.UUID, blocked: uuid.UUID, at: datetime) -> None:
        self.rows.setdefault((blocker, blocked), at)

    async def remove(self, blocker: uuid.UUID, blocked: uuid.UUID) -> None:
        self.rows.pop((blocker, blocked), None)

    async def has(self, blocker: uuid.UUID, blocked: uuid.UUID) -> bool:
        self.reads += 1
        return (blocker, blocked) in self.rows

    async def list(self, blocker: uuid.UUID, limit: int) -> list[Block]:
        return [Block(b, at) for (a, b), at in self.rows.items() if a == blocker][:limit]


class Everyone:
    def __init__(self, *known: uuid.UUID) -> None:
        self.known = set(known)

    async def exists(self, user_id: uuid.UUID, bearer_token: str) -> bool:
        return user_id in self.known


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


ALICE, BOB = sorted((uuid.uuid4(), uuid.uuid4()))
CHAT = Chat(chat_id_for(ALICE, BOB), (ALICE, BOB), datetime(2026, 1, 1, tzinfo=UTC))


def replica(store: MemoryBlocks, clock: Clock) -> Blocks:
    return Blocks(store, Everyone(ALICE, BOB), max_age=1.0, clock=clock)


async def test_another_replica_sees_a_block_once_its_memory_is_a_second_old() -> None:
    store, clock = MemoryBlocks(), Clock()
    here, there = replica(store, clock), replica(store, clock)
    await there.check_send(CHAT, BOB)  # remembers "not blocked"
    await here.block(ALICE, BOB, "token")
    with pytest.raises(Blocked):
        await here.check_send(CHAT, BOB)  # its own change: at once
    clock.now += 0.9
    await there.check_send(CHAT, BOB)  # still within its second
    clock.now += 0.1
    with pytest.raises(Blocked):
        await there.check_send(CHAT, BOB)
    await there.check_send(CHAT, ALICE)  # one-way


async def test_memory_saves_reads_within_its_age() -> None:
    store, clock = MemoryBlocks(), Clock()
    blocks = replica(store, clock)
    for _ in range(5):
        await blocks.check_send(CHAT, BOB)
    assert store.reads == 1
    clock.now += 1.0
    await blocks.check_send(CHAT, BOB)
    assert store.reads == 2


async def test_unblock_on_the_same_replica_lets_sends_in_at_once() -> None:
    store, clock = MemoryBlocks(), Clock()
    blocks = replica(store, clock)
    await blocks.block(ALICE, BOB, "token")
    with pytest.raises(Blocked):
        await blocks.check_send(CHAT, BOB)
    await blocks.unblock(ALICE, BOB, "token")
    await blocks.check_send(CHAT, BOB)


async def test_self_and_unknown_users_are_refused_and_nothing_is_written() -> None:
    store, clock = MemoryBlocks(), Clock()
    blocks = replica(store, clock)
    with pytest.raises(BlockSelf):
        await blocks.block(ALICE, ALICE, "token")
    with pytest.raises(UserNotFound):
        await blocks.block(ALICE, uuid.uuid4(), "token")
    assert store.rows == {}


async def test_memory_is_bounded() -> None:
    store, clock = MemoryBlocks(), Clock()
    blocks = Blocks(store, Everyone(), max_age=1.0, max_entries=3, clock=clock)
    for _ in range(10):
        await blocks.blocks(uuid.uuid4(), BOB)
    assert len(blocks._seen) == 3  # noqa: SLF001
