"""`GET /chats`: a member's chats, most recent activity first, with previews and unread.

Each page costs one point read of `chat_counts` per chat on it, never a count over
history: unread comes from the inbox consumer's running counts. Only when the caller's
own mark (recorded by `POST /read`) is ahead of what the consumer has applied yet is the
difference counted, over the `counted_message` rows between the two marks: a few rows,
for the moments between a read and its event being applied.

The activity order is applied when reading (`chat_by_user` is keyed by chat, so a new
message moves no row): the member's whole list is read in chunks of `_LIST_CHUNK` rows by
chat id (so no driver page can silently cut it), sorted, and cut after the cursor. The
cursor is the last item's (activity time, chat id), so pages neither repeat nor skip a
chat that did not move, whatever was added meanwhile.
"""

import base64
import binascii
import uuid
from dataclasses import dataclass

from chat_service.domain.counting import ChatCounts, LastMessage, newer
from chat_service.domain.model import ChatActivity
from chat_service.store.chats import ChatRepository
from chat_service.store.counts import CountsStore, StoredCounts

_LIST_CHUNK = 1000


class InvalidCursor(ValueError):
    """A `cursor` this service did not make."""


@dataclass(frozen=True, slots=True)
class ChatListing:
    """One chat as the caller's list shows it."""

    activity: ChatActivity
    last_message: LastMessage | None
    unread: int
    read_up_to: uuid.UUID | None
    other_read_up_to: uuid.UUID | None


def _sort_key(item: ChatActivity) -> tuple[int, str]:
    return int(item.active_at.timestamp() * 1_000_000), str(item.chat.id)


def encode_cursor(item: ChatActivity) -> str:
    micros, chat_id = _sort_key(item)
    return base64.urlsafe_b64encode(f"{micros}:{chat_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[int, str]:
    """(activity in microseconds, chat id) of a cursor; InvalidCursor if it is none."""
    try:
        micros, chat_id = base64.urlsafe_b64decode(cursor.encode()).decode().split(":")
        return int(micros), str(uuid.UUID(chat_id))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor("not a cursor of this list") from exc


def page_of(
    chats: list[ChatActivity], limit: int, cursor: str | None
) -> tuple[list[ChatActivity], str | None]:
    """The page after `cursor` (most recent activity first) and the next page's cursor."""
    ordered = sorted(chats, key=_sort_key, reverse=True)
    if cursor is not None:
        after = decode_cursor(cursor)
        ordered = [item for item in ordered if _sort_key(item) < after]
    page = ordered[:limit]
    return page, (encode_cursor(page[-1]) if len(ordered) > limit else None)


def _later(first: uuid.UUID | None, second: uuid.UUID | None) -> uuid.UUID | None:
    if first is None:
        return second
    return first if second is None or newer(first, second) else second


class ChatList:
    """Pages of a member's chats with their counts."""

    def __init__(self, repository: ChatRepository, counts: CountsStore) -> None:
        self._repository = repository
        self._counts = counts

    async def page(
        self, user_id: uuid.UUID, limit: int, cursor: str | None
    ) -> tuple[list[ChatListing], str | None]:
        if cursor is not None:
            decode_cursor(cursor)  # a bad cursor is refused before any read
        chats = await self._all_chats(user_id)
        page, next_cursor = page_of(chats, limit, cursor)
        listings = [await self._listing(user_id, item) for item in page]
        return listings, next_cursor

    async def _all_chats(self, user_id: uuid.UUID) -> list[ChatActivity]:
        chats: list[ChatActivity] = []
        after: uuid.UUID | None = None
        while True:
            chunk = await self._repository.list_user_chats(user_id, after, _LIST_CHUNK)
            chats += chunk
            if len(chunk) < _LIST_CHUNK:
                return chats
            after = chunk[-1].chat.id

    async def _listing(self, user_id: uuid.UUID, item: ChatActivity) -> ChatListing:
        stored = await self._counts.load(item.chat.id)
        members = item.chat.members
        mine_index = members.index(user_id)
        api_mine, api_other = stored.marks[mine_index], stored.marks[1 - mine_index]
        state = stored.state
        if state is None:
            return ChatListing(item, None, 0, api_mine, api_other)
        applied_mine = state.side(user_id).read_up_to
        other = state.other(user_id)
        return ChatListing(
            activity=item,
            last_message=state.last_message,
            unread=await self._unread(state, user_id, stored),
            read_up_to=_later(api_mine, applied_mine),
            other_read_up_to=_later(api_other, state.side(other).read_up_to),
        )

    async def _unread(self, state: ChatCounts, user_id: uuid.UUID, stored: StoredCounts) -> int:
        unread = state.unread(user_id)
        applied = state.side(user_id).read_up_to
        recorded = stored.marks[state.members.index(user_id)]
        if unread == 0 or recorded is None or not newer(recorded, applied):
            return unread
        # The caller's newest read is not applied by the consumer yet: count what it covers.
        covered = await self._counts.counted_between(
            state.chat_id, state.other(user_id), applied, recorded
        )
        return max(0, unread - covered)
