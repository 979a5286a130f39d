"""Request and response bodies of the auth service."""

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from chat_common.contract.times import Instant
from chat_common.contract.usernames import USERNAME_PATTERN
from chat_common.text import RawMaxLength, SafeText

# The username rule already keeps usernames to ASCII letters, digits and `_.-`; SafeText
# states the shared rule (no controls, no bidi overrides) so a looser rule cannot drop it.
Username = Annotated[str, StringConstraints(pattern=USERNAME_PATTERN), SafeText]
Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]
# Trimmed (so "   " is empty); 64 characters as sent.
DisplayName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    RawMaxLength(64),
    SafeText,
]


class UserCreate(BaseModel):
    username: Username
    password: Password
    display_name: DisplayName | None = None


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    username: str
    display_name: str | None
    # RFC 3339 UTC with milliseconds, the one time format of every service and event.
    created_at: Instant


class UserSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    username: str
    display_name: str | None


class UserPage(BaseModel):
    items: list[UserSummary]
    next_cursor: str | None


class LoginRequest(BaseModel):
    """Login as JSON; the OAuth2 password form carries the same two fields."""

    # No username holds a control character, and PostgreSQL refuses NUL in a query (the
    # rate-limit key has the username): such a login is a 422 before any query.
    username: Annotated[str, StringConstraints(min_length=1, max_length=64), SafeText]
    password: Annotated[str, StringConstraints(min_length=1, max_length=128)]


class RefreshRequest(BaseModel):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=4096)]


class TokenPair(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    refresh_token: str


class JsonWebKeySet(BaseModel):
    keys: list[dict[str, str]]
