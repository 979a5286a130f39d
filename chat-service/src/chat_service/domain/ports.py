"""What the chat rules and the outbox relay need from a store, a publisher and a directory.

Protocols, so the real classes (ChatRepository, OutboxStore, EventPublisher,
UserDirectory) and the tests' in-memory fakes both type-check where they are used, with
no `cast` and no `type: ignore`. Each lists only what its user calls.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from chat_service.domain.model import Chat, ClaimedMessage, Message, OutboxEntry


class UserLookup(Protocol):
    """The user directory (auth-service): does a user exist?"""

    async def exists(self, user_id: uuid.UUID, bearer_token: str) -> bool: ...


class MessagePages(Protocol):
    """The bucketed history a page walk reads."""

    async def list_buckets(
        self, chat_id: uuid.UUID, at_or_before: int | None, limit: int
    ) -> list[int]: ...

    async def list_messages(
        self, chat_id: uuid.UUID, bucket: int, before: uuid.UUID | None, limit: int
    ) -> list[Message]: ...


class OutboxQueries(Protocol):
    """The outbox's own rows: entries by shard and slot, acknowledgements, watermarks."""

    async def page(
        self, shard: int, slot: int, after: uuid.UUID, until: datetime, limit: int
    ) -> list[OutboxEntry]: ...

    async def acks(
        self, slot: int, after: uuid.UUID, until: datetime, limit: int
    ) -> list[uuid.UUID]: ...

    async def record_acks(self, entry_ids: Sequence[uuid.UUID]) -> None: ...

    async def get_watermark(self, shard: int) -> datetime | None: ...

    async def set_watermark(self, shard: int, swept_to: datetime) -> None: ...


class OutboxAppend(Protocol):
    """A send's first write: its outbox row."""

    async def append(self, entry: OutboxEntry) -> None: ...

    async def announced_creation(self, chat: Chat) -> bool: ...


class ChatStore(MessagePages, Protocol):
    """Every query the chat rules make."""

    @property
    def outbox(self) -> OutboxAppend: ...

    async def insert_chat_if_absent(self, chat: Chat) -> tuple[Chat, bool]: ...

    async def add_chat_to_members(self, chat: Chat) -> None: ...

    async def get_chat(self, chat_id: uuid.UUID) -> Chat | None: ...

    async def claim_client_message(
        self, client_message_id: str, message: Message, bucket: int
    ) -> ClaimedMessage | None: ...

    async def store_message(self, message: Message, bucket: int) -> None: ...

    async def get_message(
        self, chat_id: uuid.UUID, bucket: int, message_id: uuid.UUID
    ) -> Message | None: ...


class RelayStore(Protocol):
    """What the outbox relay reads and writes back."""

    @property
    def outbox(self) -> OutboxQueries: ...

    async def repair_messages(self, entries: Sequence[OutboxEntry]) -> None: ...

    async def touch_chats(self, latest: list[OutboxEntry]) -> None: ...


class Publisher(Protocol):
    """The Kafka side of the relay: start (retried), then publish with per-entry acks."""

    @property
    def started(self) -> bool: ...

    async def ensure_started(self) -> None: ...

    async def publish(self, entries: Sequence[OutboxEntry]) -> list[bool]: ...


class DocumentSource(Protocol):
    """The Firestore client as the event streams use it: queries to listen to, then close.

    The SDK's query chain (`collection().where().order_by()`) is untyped, hence `Any`.
    """

    def collection(self, path: str) -> Any: ...

    def close(self) -> None: ...
