"""The rules of chats and messages; no HTTP here."""

import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from chat_service.domain.errors import ChatNotFound, ChatWithSelf, UserNotFound
from chat_service.domain.history import read_history
from chat_service.domain.model import Chat, Message, OutboxEntry, chat_id_for
from chat_service.domain.ports import ChatStore, UserLookup
from chat_service.domain.timeuuids import bucket_start, new_message_id
from chat_service.metrics import CHATS_CREATED, DUPLICATE_SENDS, MESSAGES_STORED


@dataclass(eq=False)
class ChatService:
    """Start chats, send messages, read history."""

    repository: ChatStore
    users: UserLookup
    announce: Callable[[OutboxEntry], None]
    bucket_seconds: int
    chat_cache_size: int = 10_000
    reannounce_within: timedelta = timedelta(minutes=5)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # Chats never change once created, so a found chat can be remembered safely; it saves
    # a read on every send.
    _chats: OrderedDict[uuid.UUID, Chat] = field(init=False, default_factory=OrderedDict)

    async def start_chat(
        self, caller: uuid.UUID, other: uuid.UUID, bearer_token: str
    ) -> tuple[Chat, bool]:
        """The pair's chat, creating it on the first call: (chat, created by this call)."""
        if caller == other:
            raise ChatWithSelf()
        if not await self.users.exists(other, bearer_token):
            raise UserNotFound()
        low, high = sorted((caller, other))
        # Millisecond precision: what Cassandra's timestamp keeps.
        now = self.clock()
        now = now.replace(microsecond=now.microsecond - now.microsecond % 1000)
        proposed = Chat(id=chat_id_for(caller, other), members=(low, high), created_at=now)
        chat, created = await self.repository.insert_chat_if_absent(proposed)
        # Also on a repeat: repairs a creation that died before this write.
        await self.repository.add_chat_to_members(chat)
        # Announced (outbox row, then the fast path) when created. A repeat soon after may
        # be the retry of a creation that died before its outbox row: it announces only
        # then (N9: each announcement rewrites both inbox documents). Later repeats, a
        # client opening a chat it has, look for nothing and announce nothing.
        if created or (
            now - chat.created_at < self.reannounce_within
            and not await self.repository.outbox.announced_creation(chat)
        ):
            opened = OutboxEntry.chat_created(new_message_id(), chat, caller)
            await self.repository.outbox.append(opened)
            self.announce(opened)
        if created:
            CHATS_CREATED.inc()
        return chat, created

    async def member_chat(self, chat_id: uuid.UUID, user_id: uuid.UUID) -> Chat:
        """The chat if `user_id` is a member; ChatNotFound otherwise (also for no chat)."""
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = await self.repository.get_chat(chat_id)
            if chat is None:
                raise ChatNotFound()
            self._remember(chat)
        if not chat.has_member(user_id):
            raise ChatNotFound()
        return chat

    async def send_message(
        self, chat: Chat, sender: uuid.UUID, text: str, client_message_id: str | None
    ) -> Message:
        """Store a message (once per client_message_id) and hand it to the outbox relay."""
        message = Message(id=new_message_id(), chat_id=chat.id, sender_id=sender, text=text)
        bucket = bucket_start(message.id, self.bucket_seconds)
        if client_message_id is not None:
            earlier = await self.repository.claim_client_message(client_message_id, message, bucket)
            if earlier is not None:
                stored = await self.repository.get_message(
                    chat.id, earlier.bucket, earlier.message.id
                )
                DUPLICATE_SENDS.inc()
                if stored is not None:
                    return stored
                # The first request claimed the id but its batch is not there (still in
                # flight, or it died): write the claimed message ourselves. Writing the
                # same message twice is idempotent, so the two requests cannot diverge.
                message, bucket = earlier.message, earlier.bucket
        recipient = chat.members[1] if sender == chat.members[0] else chat.members[0]
        entry = OutboxEntry(new_message_id(), message, bucket, recipient, chat.created_at)
        # Outbox first: from here on the relay announces the message and repairs its
        # history rows should this process die before the next write.
        await self.repository.outbox.append(entry)
        await self.repository.store_message(message, bucket)
        MESSAGES_STORED.inc()
        self.announce(entry)
        return message

    async def history(
        self, chat: Chat, before: uuid.UUID | None, quantity: int
    ) -> tuple[list[Message], uuid.UUID | None]:
        """Up to `quantity` messages strictly older than `before`, newest first, and the
        `time` of the next page (None when nothing older is left)."""
        return await read_history(self.repository, chat.id, before, quantity)

    def _remember(self, chat: Chat) -> None:
        self._chats[chat.id] = chat
        if len(self._chats) > self.chat_cache_size:
            self._chats.popitem(last=False)
