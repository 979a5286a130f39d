"""Blocks (DESIGN.md "Safety"): one-way; the blocked user cannot send into the pair's chat.

Every API replica answers sends, and a block made on one must hold on all within about a
second. Each replica remembers what it read for at most `max_age` seconds, so a block (or
an unblock) takes effect everywhere within that, with no event to miss; a replica's own
change drops its entry at once. The cost is one row read per sending pair and `max_age`.
"""

import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from chat_service.domain.errors import Blocked, BlockSelf, UserNotFound
from chat_service.domain.model import Block, Chat
from chat_service.domain.ports import UserLookup


class BlockStore(Protocol):
    async def put(self, blocker: uuid.UUID, blocked: uuid.UUID, at: datetime) -> None: ...

    async def remove(self, blocker: uuid.UUID, blocked: uuid.UUID) -> None: ...

    async def has(self, blocker: uuid.UUID, blocked: uuid.UUID) -> bool: ...

    async def list(self, blocker: uuid.UUID, limit: int) -> list[Block]: ...


@dataclass(eq=False)
class Blocks:
    """Block, unblock, list; and refuse a send from a blocked user."""

    store: BlockStore
    users: UserLookup
    max_age: float = 1.0
    max_entries: int = 100_000
    list_limit: int = 1_000
    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # (blocker, blocked) -> (blocked?, when it was read)
    _seen: OrderedDict[tuple[uuid.UUID, uuid.UUID], tuple[bool, float]] = field(
        init=False, default_factory=OrderedDict
    )

    async def block(self, blocker: uuid.UUID, blocked: uuid.UUID, bearer_token: str) -> None:
        await self._check_other(blocker, blocked, bearer_token)
        now = self.wall_clock()
        # Millisecond precision: what Cassandra's timestamp keeps.
        await self.store.put(
            blocker, blocked, now.replace(microsecond=now.microsecond // 1000 * 1000)
        )
        self._seen.pop((blocker, blocked), None)

    async def unblock(self, blocker: uuid.UUID, blocked: uuid.UUID, bearer_token: str) -> None:
        await self._check_other(blocker, blocked, bearer_token)
        await self.store.remove(blocker, blocked)
        self._seen.pop((blocker, blocked), None)

    async def listed(self, blocker: uuid.UUID) -> list[Block]:
        return await self.store.list(blocker, self.list_limit)

    async def check_send(self, chat: Chat, sender: uuid.UUID) -> None:
        """Blocked (403) when the chat's other member blocked `sender`."""
        other = chat.members[1] if sender == chat.members[0] else chat.members[0]
        if await self.blocks(other, sender):
            raise Blocked()

    async def blocks(self, blocker: uuid.UUID, blocked: uuid.UUID) -> bool:
        """Whether `blocker` blocked `blocked`, as read at most `max_age` seconds ago."""
        key, now = (blocker, blocked), self.clock()
        seen = self._seen.get(key)
        if seen is not None and now - seen[1] < self.max_age:
            return seen[0]
        answer = await self.store.has(blocker, blocked)
        self._seen[key] = (answer, now)
        self._seen.move_to_end(key)
        while len(self._seen) > self.max_entries:
            self._seen.popitem(last=False)
        return answer

    async def _check_other(self, blocker: uuid.UUID, blocked: uuid.UUID, bearer_token: str) -> None:
        if blocker == blocked:
            raise BlockSelf()
        if not await self.users.exists(blocked, bearer_token):
            raise UserNotFound()
