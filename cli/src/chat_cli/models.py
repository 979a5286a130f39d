"""What the services answer, as the client uses it (extra fields are ignored)."""

from datetime import datetime

from pydantic import BaseModel


class User(BaseModel):
    id: str
    username: str
    display_name: str | None = None


class UserPage(BaseModel):
    items: list[User]
    next_cursor: str | None


class TokenPair(BaseModel):
    access_token: str
    expires_in: int
    refresh_token: str


class LastMessage(BaseModel):
    id: str
    sender_id: str
    text: str | None = None
    sent_at: str


class Chat(BaseModel):
    id: str
    members: list[str]
    created_at: datetime
    last_message_at: datetime | None = None
    # GET /chats only (POST /chats answers without them).
    last_message: LastMessage | None = None
    unread: int = 0
    read_up_to: str | None = None
    other_read_up_to: str | None = None


class ChatList(BaseModel):
    items: list[Chat]
    next_cursor: str | None = None


class Message(BaseModel):
    id: str
    chat_id: str
    sender_id: str
    # Null once deleted.
    text: str | None = None
    sent_at: str
    edited_at: str | None = None
    deleted: bool = False


class MessagePage(BaseModel):
    items: list[Message]
    next_time: str | None
