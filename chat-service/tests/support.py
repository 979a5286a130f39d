"""Types shared by chat-service's test modules and their conftest (importable as `support`)."""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class User:
    """A user of the running auth-service, with a current access token."""

    id: uuid.UUID
    username: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


# The `start_chat` fixture: POST /chats as the first user with the second; the chat body.
StartChat = Callable[[User, User], Awaitable[dict[str, Any]]]
