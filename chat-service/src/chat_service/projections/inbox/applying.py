"""A chat's events applied to its counting state, with the lookups that deduplicate them.

The pure moves are `counting`'s; this adds what needs the counts store: the state saved
so far, the counted-message index (a message announced twice is counted once) and how
many messages a moved read mark covers. An event at an offset the state already holds
(a replay after a crash or a rebalance) changes nothing, but its documents are written
again, whole, from the state as it is: a replayed `chat.created` clears no preview.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from chat_common.contract.events import ChatRead, MessageCreated
from chat_service.domain.counting import (
    ChatCounts,
    InboxEvent,
    apply_change,
    apply_created,
    apply_read,
    is_surely_new,
    mark_moves,
)
from chat_service.projections.inbox.documents import DocKey, documents_of
from chat_service.store.counts import StoredCounts

# An event and its Kafka offset.
Event = tuple[int, InboxEvent]
# Counted messages not yet written: message id -> (sender, offset it was counted at).
Pending = dict[uuid.UUID, tuple[uuid.UUID, int]]


class CountsLedger(Protocol):
    """What applying needs from the counts store (`CountsStore`)."""

    async def load(self, chat_id: uuid.UUID) -> StoredCounts: ...

    async def save(self, state: ChatCounts) -> None: ...

    async def counted_at(
        self, chat_id: uuid.UUID, sender_id: uuid.UUID, message_id: uuid.UUID
    ) -> int | None: ...

    async def record_counted(
        self, chat_id: uuid.UUID, counted: Sequence[tuple[uuid.UUID, uuid.UUID, int]]
    ) -> None: ...

    async def counted_between(
        self,
        chat_id: uuid.UUID,
        sender_id: uuid.UUID,
        after: uuid.UUID | None,
        up_to: uuid.UUID,
        before_offset: int | None = None,
    ) -> int: ...


@dataclass(frozen=True)
class Applied:
    """A chat's state after a run of its events, saved, and the documents each event
    dirtied (with the offset that must not be committed before they are written)."""

    state: ChatCounts
    dirtied: list[tuple[DocKey, int]]


@dataclass(frozen=True)
class ChatApplier:
    """Apply one chat's events, in offset order, and save the state."""

    counts: CountsLedger

    async def apply(
        self, chat_id: uuid.UUID, state: ChatCounts | None, events: Sequence[Event]
    ) -> Applied:
        """`state`: the one in memory, None to load the saved one (or start afresh)."""
        if state is None:
            state = (await self.counts.load(chat_id)).state
            if state is None:
                low, high = sorted(events[0][1].members)
                state = ChatCounts(chat_id, (low, high))
        dirtied: list[tuple[DocKey, int]] = []
        # The counted-message rows of this poll go out together, one request per sender,
        # instead of one per message; always before the state that counts them is saved.
        pending: Pending = {}
        for offset, event in events:
            if not state.applied(offset):
                if isinstance(event, ChatRead):
                    # A read counts the rows its mark covers: those of this poll too.
                    await self._record(chat_id, pending)
                state = await self._apply_event(state, offset, event, pending)
            dirtied += [(key, offset) for key in documents_of(state, event)]
        await self._record(chat_id, pending)
        await self.counts.save(state)
        return Applied(state, dirtied)

    async def _record(self, chat_id: uuid.UUID, pending: Pending) -> None:
        if pending:
            counted = [(sender, message, offset) for message, (sender, offset) in pending.items()]
            await self.counts.record_counted(chat_id, counted)
            pending.clear()

    async def _apply_event(
        self, state: ChatCounts, offset: int, event: InboxEvent, pending: Pending
    ) -> ChatCounts:
        if isinstance(event, MessageCreated):
            return await self._apply_created(state, offset, event, pending)
        if isinstance(event, ChatRead):
            return await self._apply_read(state, offset, event)
        return apply_change(state, offset, event)

    async def _apply_created(
        self, state: ChatCounts, offset: int, event: MessageCreated, pending: Pending
    ) -> ChatCounts:
        if not is_surely_new(state, event.sender_id, event.id):
            earlier = pending.get(event.id)
            counted = (
                earlier[1]
                if earlier is not None
                else await self.counts.counted_at(event.chat_id, event.sender_id, event.id)
            )
            # Counted at an earlier offset: a duplicate announcement. At this very offset:
            # an earlier attempt died before saving the state, so count it.
            if counted is not None and counted < offset:
                return state.as_of(offset)
        pending[event.id] = (event.sender_id, offset)
        return apply_created(state, offset, event.sender_id, event.id, event.text)

    async def _apply_read(self, state: ChatCounts, offset: int, event: ChatRead) -> ChatCounts:
        if not mark_moves(state, event.user_id, event.up_to):
            return state.as_of(offset)
        covered = await self.counts.counted_between(
            event.chat_id,
            state.other(event.user_id),
            state.side(event.user_id).read_up_to,
            event.up_to,
            before_offset=offset,
        )
        return apply_read(state, offset, event.user_id, event.up_to, event.read_at, covered)
