"""Chat message events produced as chat-service would, remembered for the checks."""

import uuid

from aiokafka import AIOKafkaProducer

from chat_common.contract.events import MessageCreated


class EventSender:
    """Produces chat message events as chat-service would, and remembers what it sent.

    Senders are named for readability ("alice"); each name stands for a user id (a UUID,
    as the contract requires) of its own in every test.
    """

    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self.producer = producer
        self.topic = topic
        self.sent: dict[str, list[tuple[uuid.UUID, str]]] = {}
        self.values: dict[uuid.UUID, tuple[str, bytes]] = {}
        self.users: dict[str, str] = {}
        self.senders: dict[str, list[str]] = {}

    def user(self, name: str) -> str:
        return self.users.setdefault(name, str(uuid.uuid4()))

    def members(self, chat_id: str, sender_id: str) -> tuple[uuid.UUID, uuid.UUID]:
        """The sender and the chat's other sender (a stand-in until another one speaks)."""
        known = self.senders.setdefault(chat_id, [])
        if sender_id not in known:
            known.append(sender_id)
        other = next((u for u in known if u != sender_id), self.user("a quiet member"))
        return uuid.UUID(sender_id), uuid.UUID(other)

    def event(self, chat_id: str, sender: str, text: str, message_id: uuid.UUID) -> bytes:
        """The record value chat-service would produce."""
        sender_id = self.user(sender)
        members = self.members(chat_id, sender_id)
        return MessageCreated.of(
            message_id, uuid.UUID(chat_id), uuid.UUID(sender_id), members, text
        ).encode()

    async def send(
        self, chat_id: str, sender: str, text: str = "hi", message_id: uuid.UUID | None = None
    ) -> uuid.UUID:
        message_id = message_id or uuid.uuid1()
        sender_id = self.user(sender)
        value = self.event(chat_id, sender, text, message_id)
        await self.producer.send(self.topic, key=chat_id.encode(), value=value)
        self.sent.setdefault(chat_id, []).append((message_id, sender_id))
        self.values[message_id] = (chat_id, value)
        return message_id

    async def redeliver(self, message_id: uuid.UUID) -> None:
        """The same event again, byte for byte (an outbox re-announce, a replay)."""
        chat_id, value = self.values[message_id]
        await self.send_raw(chat_id, value)

    async def send_raw(self, chat_id: str, value: bytes) -> None:
        await self.producer.send(self.topic, key=chat_id.encode(), value=value)

    async def flush(self) -> None:
        await self.producer.flush()

    @property
    def ids(self) -> set[str]:
        return {str(i) for items in self.sent.values() for i, _ in items}

    @property
    def chats(self) -> list[str]:
        return list(self.sent)
