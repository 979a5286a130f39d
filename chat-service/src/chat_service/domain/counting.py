"""The pure core of unread counts: a chat's counting state and how each event moves it.

No I/O. The consumer applies a chat's events in their Kafka order (one partition per chat)
and hands in what needs a store lookup (`covered`: how many of the other member's counted
messages a moved read mark newly covers). Every event carries its Kafka offset; the state
remembers the last offset applied, so a replay of an applied event is skipped.

unread(u) = sent(other) - read_count(u), where read_count(u) is the number of the other
member's counted messages at or below u's mark: a late message below the mark is counted
as sent and as read at once, so it never shows as unread.
"""

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from chat_common.contract.events import (
    ChatCreated,
    ChatRead,
    MessageCreated,
    MessageDeleted,
    MessageEdited,
)
from chat_common.contract.times import time_order, uuid_time

PREVIEW_CHARACTERS = 100

# What the inbox follows: new messages and read marks move counts; edits and deletes move
# the preview when they touch the newest message; an opened chat only shows its entries.
InboxEvent = ChatCreated | ChatRead | MessageCreated | MessageEdited | MessageDeleted
# The events applied without a store lookup.
Change = ChatCreated | MessageEdited | MessageDeleted


def preview(text: str) -> str:
    """The start of a message as lists show it: at most PREVIEW_CHARACTERS characters."""
    return text[:PREVIEW_CHARACTERS]


def newer(first: uuid.UUID, second: uuid.UUID | None) -> bool:
    """True when message id `first` is strictly newer than `second` (None: no message)."""
    return second is None or time_order(first) > time_order(second)


@dataclass(frozen=True, slots=True)
class LastMessage:
    id: uuid.UUID
    sender_id: uuid.UUID
    text: str | None  # None once deleted (a deletion is final: later edits change nothing)

    @property
    def sent_at(self) -> datetime:
        return uuid_time(self.id)


@dataclass(frozen=True, slots=True)
class MemberCounts:
    """One member's side of a chat."""

    sent: int = 0  # distinct messages this member sent
    newest_sent: uuid.UUID | None = None  # the newest of them: anything newer is new
    read_up_to: uuid.UUID | None = None  # the read mark as the consumer applied it
    read_count: int = 0  # the other member's messages at or below read_up_to
    read_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ChatCounts:
    """A chat's counting state; `applied_offset` is the last Kafka offset applied (-1: none)."""

    chat_id: uuid.UUID
    members: tuple[uuid.UUID, uuid.UUID]
    sides: tuple[MemberCounts, MemberCounts] = (MemberCounts(), MemberCounts())
    last_message: LastMessage | None = None
    applied_offset: int = -1

    def side(self, user_id: uuid.UUID) -> MemberCounts:
        return self.sides[self.members.index(user_id)]

    def other(self, user_id: uuid.UUID) -> uuid.UUID:
        return self.members[1] if user_id == self.members[0] else self.members[0]

    def unread(self, user_id: uuid.UUID) -> int:
        """Messages from the other member newer than `user_id`'s mark."""
        return max(0, self.side(self.other(user_id)).sent - self.side(user_id).read_count)

    def applied(self, offset: int) -> bool:
        """True when the event at `offset` is already in this state (a replay)."""
        return offset <= self.applied_offset

    def as_of(self, offset: int) -> "ChatCounts":
        """This state, recorded as holding the event at `offset` (which changed nothing else)."""
        return replace(self, applied_offset=offset)

    def _with_side(self, user_id: uuid.UUID, side: MemberCounts, offset: int) -> "ChatCounts":
        sides = list(self.sides)
        sides[self.members.index(user_id)] = side
        return replace(self, sides=(sides[0], sides[1]), applied_offset=offset)


def is_surely_new(state: ChatCounts, sender_id: uuid.UUID, message_id: uuid.UUID) -> bool:
    """True when a message cannot have been counted: newer than its sender's newest counted
    one. Otherwise the consumer asks the counted-message index."""
    return newer(message_id, state.side(sender_id).newest_sent)


def apply_created(
    state: ChatCounts, offset: int, sender_id: uuid.UUID, message_id: uuid.UUID, text: str
) -> ChatCounts:
    """Count a message not counted before (the caller deduplicated it by id)."""
    mine = state.side(sender_id)
    state = state._with_side(
        sender_id,
        replace(
            mine,
            sent=mine.sent + 1,
            newest_sent=message_id if newer(message_id, mine.newest_sent) else mine.newest_sent,
        ),
        offset,
    )
    reader = state.other(sender_id)
    theirs = state.side(reader)
    if theirs.read_up_to is not None and not newer(message_id, theirs.read_up_to):
        # Arrived after a mark already past it: read as soon as it is counted.
        state = state._with_side(reader, replace(theirs, read_count=theirs.read_count + 1), offset)
    if state.last_message is None or newer(message_id, state.last_message.id):
        state = replace(state, last_message=LastMessage(message_id, sender_id, preview(text)))
    return state


def mark_moves(state: ChatCounts, user_id: uuid.UUID, up_to: uuid.UUID) -> bool:
    """True when a read mark at `up_to` is ahead of `user_id`'s (marks only move forward)."""
    return newer(up_to, state.side(user_id).read_up_to)


def apply_read(
    state: ChatCounts,
    offset: int,
    user_id: uuid.UUID,
    up_to: uuid.UUID,
    read_at: datetime,
    covered: int,
) -> ChatCounts:
    """Move `user_id`'s mark to `up_to`; `covered` = the other member's counted messages
    newer than the old mark and at or below `up_to`. An older mark changes nothing."""
    if not mark_moves(state, user_id, up_to):
        return state.as_of(offset)
    mine = state.side(user_id)
    moved = replace(mine, read_up_to=up_to, read_count=mine.read_count + covered, read_at=read_at)
    return state._with_side(user_id, moved, offset)


def apply_edited(state: ChatCounts, offset: int, message_id: uuid.UUID, text: str) -> ChatCounts:
    """The preview follows an edit of the chat's newest message, unless it was deleted
    (delete wins, whichever of the two events arrives last)."""
    last = state.last_message
    if last is not None and last.id == message_id and last.text is not None:
        state = replace(state, last_message=replace(last, text=preview(text)))
    return state.as_of(offset)


def apply_deleted(state: ChatCounts, offset: int, message_id: uuid.UUID) -> ChatCounts:
    """The preview of a deleted newest message keeps its id and time, without its text.
    Counts do not change: a deleted message was still sent (and read or not)."""
    last = state.last_message
    if last is not None and last.id == message_id:
        state = replace(state, last_message=replace(last, text=None))
    return state.as_of(offset)


def apply_change(state: ChatCounts, offset: int, event: Change) -> ChatCounts:
    """An event that needs no lookup. An opened chat counts nothing and keeps every count
    and preview (a repeat, or a replay after messages, clears nothing): its inbox entries
    are written as the state has them."""
    if isinstance(event, MessageEdited):
        return apply_edited(state, offset, event.id, event.text)
    if isinstance(event, MessageDeleted):
        return apply_deleted(state, offset, event.id)
    return state.as_of(offset)
